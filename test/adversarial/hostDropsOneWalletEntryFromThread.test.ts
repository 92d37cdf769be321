import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AuditCheckpoint, AuditEntry } from '../../shared/audit/auditEntry.js'
import { toAuditJsonl } from '../../shared/audit/exportFormats.js'
import { hashAuditEntry } from '../../shared/audit/hashAuditEntry.js'
import { verifyReceipt } from '../../shared/audit/verifyReceipt.js'
import { verifyWalletThread } from '../../shared/audit/verifyWalletThread.js'
import { runCli } from '../helpers/agentClient.js'
import { auditLogOf } from '../helpers/auditLogOf.js'
import type { AgentSignOk } from '../helpers/maliciousHost.js'
import { type TwoWallets, startWithTwoWallets } from '../helpers/twoWallets.js'

/**
 * Attack (issue 15 step 2, wallet threads): the host serves an auditor wallet A's one-wallet export (its thread and
 * the checkpoints at its seqs) with one payment entry removed, hoping the other wallets' absence hides the hole.
 * Defined outcome: walletSeq skips and the next walletPrev names the removed entry: audit_thread_broken (the CLI
 * too). Re-linking the rest of the thread around the hole changes those entries' hashes: a checkpoint the enclave
 * signed at one of them no longer matches (audit_checkpoint_mismatch); dropping those checkpoints as well leaves the
 * rewritten part unsigned (signedThrough stops before the hole) and the agent's receipt for a later payment is not
 * in the export (receipt_entry_missing). Cutting the thread's end is what a one-wallet export alone cannot show: the
 * agent's receipt given as the thread head seen before (`--since-wallet-head`) does (audit_rollback).
 */
describe('adversarial: the host drops one entry from a wallet\'s thread', () => {
  let t: TwoWallets
  let entries: AuditEntry[]
  let hashes: string[]
  let checkpoints: AuditCheckpoint[]
  let publicKey: string
  const receipts: AgentSignOk['receipt'][] = []
  const work = mkdtempSync(path.join(tmpdir(), 'bursar-thread-drop-'))

  beforeAll(async () => {
    t = await startWithTwoWallets()
    await t.host.waitAgentFloor()
    for (let i = 0; i < 4; i++) {
      receipts.push(await t.payOk(t.a))
      await t.payOk(t.b) // B's entries sit between A's: the global chain of a one-wallet export has gaps
    }
    publicKey = ((await t.host.call({ type: 'attest', nonce: null })) as { result: { receiptPublicKey: string } }).result.receiptPublicKey
    const log = auditLogOf(t.host.entries)
    const mine = log.entries.map((e, i) => [e, log.hashes[i]!] as const).filter(([e]) => e.wallet?.toLowerCase() === t.a.wallet)
    entries = mine.map(([e]) => e)
    hashes = mine.map(([, h]) => h)
    const seqs = new Set(entries.map((e) => e.seq))
    checkpoints = t.host.checkpoints.filter((c) => seqs.has(c.seq)) as AuditCheckpoint[]
  })
  afterAll(async () => {
    await t?.host.stop()
    rmSync(work, { recursive: true, force: true })
  })

  it('the honest one-wallet export verifies, signed through its last entry', () => {
    const r = verifyWalletThread({ wallet: t.a.wallet, entries, hashes, checkpoints, publicKey })
    expect(r).toMatchObject({ ok: true, complete: false })
    if (!r.ok) return
    expect(r.thread.map((x) => x.walletSeq)).toEqual(entries.map((_, i) => i + 1))
    expect(r.signedThrough?.walletSeq).toBe(entries.length)
    for (const receipt of receipts) expect(verifyReceipt({ receipt, entries, publicKey })).toMatchObject({ ok: true })
  })

  it('one payment entry removed → audit_thread_broken (verifier and CLI)', async () => {
    const drop = entries.findIndex((e) => e.seq === receipts[1]!.seq)
    const keep = (_: unknown, i: number) => i !== drop
    const r = verifyWalletThread({ wallet: t.a.wallet, entries: entries.filter(keep), hashes: hashes.filter(keep), checkpoints, publicKey })
    expect(r).toMatchObject({ ok: false, code: 'audit_thread_broken', seq: entries[drop + 1]!.seq })
    const file = path.join(work, 'a-cut.jsonl')
    writeFileSync(file, toAuditJsonl({ entries: entries.filter(keep), hashes: hashes.filter(keep), checkpoints }))
    const cli = await runCli(['audit', 'verify', '--file', file, '--public-key', publicKey, '--wallet', t.a.wallet])
    expect(cli.code).toBe(1)
    expect(cli.stdout).toMatch(`BROKEN at seq ${entries[drop + 1]!.seq}: audit_thread_broken: `)
  })

  it('the rest of the thread re-linked around the hole → the enclave\'s checkpoints refuse it; without them it is unsigned and a receipt is missing', () => {
    const drop = entries.findIndex((e) => e.seq === receipts[1]!.seq)
    const relinked: AuditEntry[] = []
    const newHashes: string[] = []
    for (const [i, e] of entries.entries()) {
      if (i === drop) continue
      const f = i < drop ? e : { ...e, walletSeq: relinked.length + 1, walletPrev: newHashes[newHashes.length - 1]! }
      relinked.push(f)
      newHashes.push(hashAuditEntry(f))
    }
    const r = verifyWalletThread({ wallet: t.a.wallet, entries: relinked, hashes: newHashes, checkpoints, publicKey })
    expect(r).toMatchObject({ ok: false, code: 'audit_checkpoint_mismatch' })
    const dropped = checkpoints.filter((c) => c.seq < entries[drop]!.seq)
    const unsigned = verifyWalletThread({ wallet: t.a.wallet, entries: relinked, hashes: newHashes, checkpoints: dropped, publicKey })
    expect(unsigned).toMatchObject({ ok: true })
    if (unsigned.ok) expect(unsigned.signedThrough!.seq).toBeLessThan(entries[drop]!.seq) // nothing after the hole is signed
    expect(verifyReceipt({ receipt: receipts[3]!, entries: relinked, publicKey })).toMatchObject({ ok: false })
    expect(verifyReceipt({ receipt: receipts[1]!, entries: relinked, publicKey })).toMatchObject({ ok: false, code: 'receipt_entry_missing' })
  })

  it('the thread\'s last entry cut: the export alone passes, the agent\'s receipt (its walletSeq) does not', async () => {
    const cut = entries.slice(0, -1)
    expect(verifyWalletThread({ wallet: t.a.wallet, entries: cut, hashes: hashes.slice(0, -1), checkpoints, publicKey })).toMatchObject({ ok: true })
    const last = receipts[receipts.length - 1]!
    expect(last.walletSeq).toBe(entries.length)
    expect(verifyReceipt({ receipt: last, entries: cut, publicKey })).toMatchObject({ ok: false, code: 'receipt_entry_missing' })
    // The receipt as the auditor's thread high-water mark: the cut export is refused, the honest one passes.
    const sinceHead = { walletSeq: last.walletSeq!, hash: last.entryHash }
    expect(verifyWalletThread({ wallet: t.a.wallet, entries: cut, hashes: hashes.slice(0, -1), checkpoints, publicKey, sinceHead })).toMatchObject({ ok: false, code: 'audit_rollback' })
    expect(verifyWalletThread({ wallet: t.a.wallet, entries, hashes, checkpoints, publicKey, sinceHead })).toMatchObject({ ok: true })
    const file = path.join(work, 'a-end-cut.jsonl')
    writeFileSync(file, toAuditJsonl({ entries: cut, hashes: hashes.slice(0, -1), checkpoints }))
    const head = `${last.walletSeq}:${last.entryHash}`
    const cli = await runCli(['audit', 'verify', '--file', file, '--public-key', publicKey, '--wallet', t.a.wallet, '--since-wallet-head', head])
    expect(cli.code).toBe(1)
    expect(cli.stdout).toMatch(/^BROKEN at seq \d+: audit_rollback: /)
    writeFileSync(file, toAuditJsonl({ entries, hashes, checkpoints }))
    const honest = await runCli(['audit', 'verify', '--file', file, '--public-key', publicKey, '--wallet', t.a.wallet, '--since-wallet-head', head])
    expect(honest.code, honest.stdout).toBe(0)
    expect(honest.stdout).toContain(`contains the head seen before (walletSeq ${last.walletSeq})`)
  })
})
