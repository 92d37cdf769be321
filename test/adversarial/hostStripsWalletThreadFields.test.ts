import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { runAuditVerify } from '../../cli/commands/audit.js'
import type { AuditEntry } from '../../shared/audit/auditEntry.js'
import { toAuditJsonl } from '../../shared/audit/exportFormats.js'
import { hashAuditEntry } from '../../shared/audit/hashAuditEntry.js'
import { mockAuditLog } from '../../shared/audit/mockAuditLog.js'
import { verifyWalletThread } from '../../shared/audit/verifyWalletThread.js'

/**
 * Attack (issue 15 step 2, rt30a): "threads start at the first entry that carries them" — entries written before
 * threads carry no walletSeq/walletPrev and a one-wallet export does not link them. The host serves wallet A's
 * one-wallet export with the thread fields stripped from every entry (their hashes recomputed, any content it likes)
 * and keeps the enclave's checkpoints at A's seqs, so the thread reads as an old, unthreaded history. Before the fix
 * the verifier matched checkpoints only against threaded entries: it ignored the ones the rewritten entries contradict
 * and answered OK. Defined outcome: a checkpoint at the seq of any entry of the wallet in the export (threaded or
 * not) must name that entry's hash (audit_checkpoint_mismatch); a host that drops those checkpoints too is left with
 * an export nothing signs, which the CLI says.
 */
describe('adversarial: the host strips the wallet thread fields from a one-wallet export', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bursar-strip-thread-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))
  const A = '0x1111111111111111111111111111111111111111'
  const B = '0x2222222222222222222222222222222222222222'
  const log = mockAuditLog({ n: 30, checkpointEvery: 5, threads: true, wallets: [A, B, A] })
  const ofA = log.entries.flatMap((e, i) => (e.wallet === A ? [[e, log.hashes[i]!] as const] : []))
  const seqsA = new Set(ofA.map(([e]) => e.seq))
  const cpsA = log.checkpoints.filter((c) => seqsA.has(c.seq))
  const stripped: AuditEntry[] = ofA.map(([e]) => {
    const { walletSeq: _s, walletPrev: _p, ...rest } = e
    return { ...rest, reason: 'rewritten by the host' }
  })
  const strippedHashes = stripped.map((e) => hashAuditEntry(e))

  it('the honest export is signed; the stripped one with the enclave\'s checkpoints kept is a checkpoint mismatch', async () => {
    expect(cpsA.length).toBeGreaterThan(0)
    const honest = verifyWalletThread({ wallet: A, entries: ofA.map(([e]) => e), hashes: ofA.map(([, h]) => h), checkpoints: cpsA, publicKey: log.publicKeyHex })
    expect(honest).toMatchObject({ ok: true, unthreaded: 0 })
    const r = verifyWalletThread({ wallet: A, entries: stripped, hashes: strippedHashes, checkpoints: cpsA, publicKey: log.publicKeyHex })
    expect(r).toMatchObject({ ok: false, code: 'audit_checkpoint_mismatch', seq: cpsA[0]!.seq })
    const file = join(dir, 'stripped.jsonl')
    writeFileSync(file, toAuditJsonl({ entries: stripped, hashes: strippedHashes, checkpoints: cpsA }))
    const cli = await runAuditVerify({ file, publicKey: log.publicKeyHex, wallet: A })
    expect(cli.exitCode).toBe(1)
    expect(cli.stdout).toContain('audit_checkpoint_mismatch')
  })

  it('stripped with the checkpoints dropped too: nothing is signed, and the CLI says so', async () => {
    const file = join(dir, 'stripped-unsigned.jsonl')
    writeFileSync(file, toAuditJsonl({ entries: stripped, hashes: strippedHashes, checkpoints: [] }))
    const cli = await runAuditVerify({ file, publicKey: log.publicKeyHex, wallet: A })
    expect(cli.stdout).toContain('WARNING: no signed checkpoint covers this thread')
    expect(cli.stdout).toContain(`${stripped.length} earlier entries of this wallet predate threads`)
  })
})
