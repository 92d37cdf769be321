import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { runAuditVerify } from '../../cli/commands/audit.js'
import type { AuditCheckpoint } from '../../shared/audit/auditEntry.js'
import { parseAuditJsonl, toAuditJsonl } from '../../shared/audit/exportFormats.js'
import { verifyAuditJsonl } from '../../shared/audit/verifyAuditJsonl.js'
import { verifyReceipt } from '../../shared/audit/verifyReceipt.js'
import { verifyWalletThread } from '../../shared/audit/verifyWalletThread.js'
import { CHAIN_B, multiChainAuditLog, oneWalletJsonl, WALLET_W } from '../helpers/multiChainAuditLog.js'

/**
 * Attack (issue 15 step 4): the host presents a checkpoint of one chain as a checkpoint of another — moved into the
 * other chain's lines as is, or with its `chain` rewritten or stripped — so that a chain the enclave never signed that
 * far looks signed, or a receipt from chain B vouches for a root entry at the same seq.
 * Defined outcome: a checkpoint's chain is inside its signed message (docs/audit.md, Checkpoint), so a rewritten or
 * stripped chain fails its signature (`audit_checkpoint_invalid`, `receipt_checkpoint_invalid`); a genuine checkpoint
 * naming another chain than the lines it is in is `audit_chain_mismatch` (a line without `chain` is checked as its
 * section's chain: the root's checkpoint among chain B's lines fails its signature). Reference and fast verifier, one-wallet verifier and the CLI agree.
 */
describe('hostRelabelsCheckpointAcrossChains', () => {
  const log = multiChainAuditLog()
  const key = log.publicKeyHex
  const exportWith = (root: AuditCheckpoint[], b: AuditCheckpoint[]) => toAuditJsonl({ ...log.root, checkpoints: root, chains: [{ ...log.b, checkpoints: b }] })
  const bCp = log.b.checkpoints[3] as AuditCheckpoint
  const rootCp = log.root.checkpoints[3] as AuditCheckpoint
  const { chain: _c, ...stripped } = bCp
  const cases: Array<[string, string, string, number]> = [
    ["chain B's checkpoint among the root's lines", exportWith([...log.root.checkpoints, bCp], log.b.checkpoints), 'audit_chain_mismatch', bCp.seq],
    ["chain B's checkpoint with its chain stripped, as the root's", exportWith([...log.root.checkpoints.filter((c) => c.seq !== bCp.seq), stripped], log.b.checkpoints), 'audit_checkpoint_invalid', bCp.seq],
    // A line without `chain` is its section's: the root's checkpoint is then checked as chain B's, and fails.
    ["the root's checkpoint among chain B's lines", exportWith(log.root.checkpoints, [...log.b.checkpoints, rootCp]), 'audit_checkpoint_invalid', rootCp.seq],
    ["chain B's checkpoint among chain B's lines without its chain member is B's (accepted): the root's one named as root", exportWith(log.root.checkpoints, [...log.b.checkpoints, { ...log.b.checkpoints[1]!, chain: undefined } as unknown as AuditCheckpoint, { ...bCp, chain: 'aa'.repeat(16) }]), 'audit_checkpoint_invalid', bCp.seq],
    ["the root's checkpoint labelled chain B", exportWith(log.root.checkpoints, [...log.b.checkpoints.filter((c) => c.seq !== rootCp.seq), { ...rootCp, chain: CHAIN_B }]), 'audit_checkpoint_invalid', rootCp.seq],
  ]

  it('the honest export verifies', () => {
    expect(verifyAuditJsonl({ jsonl: exportWith(log.root.checkpoints, log.b.checkpoints), publicKey: key })).toMatchObject({ ok: true, chains: [{ chain: CHAIN_B }] })
  })

  it('each relabelling is refused with its code, by the whole-log verifier (reference = fast) and the CLI', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'bursar-relabel-'))
    for (const [name, text, code, seq] of cases) {
      const r = verifyAuditJsonl({ jsonl: text, publicKey: key })
      expect(r, name).toMatchObject({ ok: false, code, seq })
      const file = path.join(dir, 'export.jsonl')
      writeFileSync(file, text)
      const cli = await runAuditVerify({ file, publicKey: key })
      expect(cli.exitCode, name).toBe(1)
      expect(cli.stdout, name).toContain(`: ${code}: `)
    }
  })

  it('in a one-wallet export too, and a receipt whose checkpoint is relabelled fails', () => {
    const lines = oneWalletJsonl(log, WALLET_W).trimEnd().split('\n')
    const i = lines.findIndex((l) => l.includes('"type":"checkpoint"') && l.includes(CHAIN_B))
    const cp = JSON.parse(lines[i] as string) as Record<string, unknown>
    for (const [edit, code] of [[{ ...cp, chain: 'aa'.repeat(16) }, 'audit_checkpoint_invalid'], [{ ...cp, chain: undefined }, 'ok']] as const) {
      const text = [...lines.slice(0, i), JSON.stringify(edit), ...lines.slice(i + 1)].join('\n')
      // Without its chain member, under chain B's header, it is B's (as the host's store may serve it): accepted.
      expect(verifyWalletThread({ wallet: WALLET_W, ...parseAuditJsonl(text), publicKey: key })).toMatchObject(code === 'ok' ? { ok: true } : { ok: false, code })
    }
    // A B checkpoint moved before the chain header (among the root's lines): as is, and stripped of its chain.
    const h = lines.findIndex((l) => l.includes('"type":"chain"'))
    for (const [line, code] of [[lines[i] as string, 'audit_chain_mismatch'], [JSON.stringify({ ...cp, chain: undefined }), 'audit_checkpoint_invalid']] as const) {
      const moved = [...lines.slice(0, h), line, ...lines.slice(h).filter((_, k) => k + h !== i)].join('\n')
      expect(verifyWalletThread({ wallet: WALLET_W, ...parseAuditJsonl(moved), publicKey: key })).toMatchObject({ ok: false, code })
    }

    const at = log.b.entries.findIndex((e) => e.event === 'sign_allowed' && e.wallet === WALLET_W)
    const receipt = { seq: log.b.entries[at]!.seq, walletSeq: log.b.entries[at]!.walletSeq, entryHash: log.b.hashes[at]!, checkpoint: log.b.checkpoints[at]! }
    const exp = parseAuditJsonl(exportWith(log.root.checkpoints, log.b.checkpoints))
    expect(verifyReceipt({ receipt, ...exp, publicKey: key })).toMatchObject({ ok: true })
    const { chain: _x, ...asRoot } = receipt.checkpoint
    expect(verifyReceipt({ receipt: { ...receipt, checkpoint: asRoot }, ...exp, publicKey: key })).toMatchObject({ ok: false, code: 'receipt_checkpoint_invalid' })
  })
})
