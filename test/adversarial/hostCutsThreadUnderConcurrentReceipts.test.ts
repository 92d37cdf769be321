import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AuditCheckpoint, AuditEntry } from '../../shared/audit/auditEntry.js'
import { toAuditJsonl } from '../../shared/audit/exportFormats.js'
import { verifyReceipt } from '../../shared/audit/verifyReceipt.js'
import { verifyWalletThread } from '../../shared/audit/verifyWalletThread.js'
import { runCli } from '../helpers/agentClient.js'
import { auditLogOf } from '../helpers/auditLogOf.js'
import { type AgentSignOk, type TestAgent, eip3009, signAgentRequest, verifyPayment } from '../helpers/maliciousHost.js'
import { type TwoWallets, startWithTwoWallets } from '../helpers/twoWallets.js'

/**
 * Attack (issue 15 step 2, rt30a; real enclave process): wallets A and B pay at the same time, so their entries
 * interleave in the one chain and A's one-wallet export has gaps where B's entries are. The host then serves wallet
 * A's one-wallet export with A's last entry (and its checkpoint) cut. What the docs offered the auditor before rt30a:
 * (1) compare the export's last walletSeq with the receipt's walletSeq — but no signature covers a receipt's walletSeq
 * and the SDK checks nothing in a receipt, so the host that relays it can lower it and the cut passes; (2)
 * verifyReceipt on the export. Defined outcome: `verifyWalletThread({ receipts })` / `bursar audit verify --wallet
 * --receipt FILE` check each receipt inside the thread — its checkpoint signed and covering it, the thread holding an
 * entry at its seq with its entryHash (and walletSeq) — so the honest export passes and the cut one is
 * receipt_entry_missing whatever walletSeq the receipt claims. Until turn15 the enclave signed one checkpoint per turn
 * (at the turn's last entry, often B's), so A's receipts named checkpoints on B's entries and verifyReceipt raised a
 * false alarm on the honest export; now every answer's checkpoint signs its own entry (docs/audit.md "Receipt"), so
 * A's receipts and A's export are signed at A's own entries and verifyReceipt passes on the honest one-wallet export.
 */
describe('adversarial: the host cuts a wallet\'s thread when its receipts name checkpoints on other wallets\' entries', () => {
  let t: TwoWallets
  let entries: AuditEntry[]
  let hashes: string[]
  let checkpoints: AuditCheckpoint[]
  let publicKey: string
  const receipts: AgentSignOk['receipt'][] = []
  const bReceipts: AgentSignOk['receipt'][] = []
  /** A's one-wallet export has gaps: a B entry between two of A's. */
  const interleaved = () => bReceipts.some((b) => receipts.some((a) => a.seq < b.seq) && receipts.some((a) => a.seq > b.seq))
  const work = mkdtempSync(path.join(tmpdir(), 'bursar-thread-concurrent-'))

  beforeAll(async () => {
    t = await startWithTwoWallets()
    await t.host.waitAgentFloor()
    // Payments of A and B at the same time (payments of 100; CAP 10,000): B's entries sit between A's in the chain
    // (before turn15 a pair decided in one turn gave A's receipt a checkpoint on B's entry; 60 pairs were tried for it).
    const small = async (w: { wallet: `0x${string}`; agent: TestAgent }) => {
      const req = signAgentRequest({ agent: w.agent, wallet: w.wallet, operation: eip3009({ wallet: w.wallet, value: 100n }) })
      const r = await t.host.agentSign(req)
      expect(r.ok).toBe(true)
      const res = (r as { result: AgentSignOk }).result
      expect(await verifyPayment(w.wallet, req.parsed, res.signature)).toBe(true)
      return res.receipt
    }
    for (let i = 0; i < 8; i++) {
      const [ra, rb] = await Promise.all([small(t.a), small(t.b)])
      receipts.push(ra)
      bReceipts.push(rb)
    }
    publicKey = ((await t.host.call({ type: 'attest', nonce: null })) as { result: { receiptPublicKey: string } }).result.receiptPublicKey
    const log = auditLogOf(t.host.entries)
    const mine = log.entries.map((e, i) => [e, log.hashes[i]!] as const).filter(([e]) => e.wallet?.toLowerCase() === t.a.wallet)
    entries = mine.map(([e]) => e)
    hashes = mine.map(([, h]) => h)
    const seqs = new Set(entries.map((e) => e.seq))
    checkpoints = t.host.checkpoints.filter((c) => seqs.has(c.seq)) as AuditCheckpoint[]
  }, 120_000)
  afterAll(async () => {
    await t?.host.stop()
    rmSync(work, { recursive: true, force: true })
  })

  it('A and B paid at once (B\'s entries between A\'s), and each of A\'s receipts names a checkpoint at its own entry (the setup)', () => {
    expect(interleaved()).toBe(true)
    for (const r of receipts) expect(r.checkpoint.seq).toBe(r.seq)
    expect(entries[entries.length - 1]!.seq).toBe(receipts[receipts.length - 1]!.seq)
  })

  it('honest export: verifyReceipt and the thread\'s receipt check pass, signed through A\'s last entry', async () => {
    const last = receipts[receipts.length - 1]!
    expect(verifyReceipt({ receipt: last, entries, publicKey })).toMatchObject({ ok: true })
    const r = verifyWalletThread({ wallet: t.a.wallet, entries, hashes, checkpoints, publicKey, receipts })
    expect(r).toMatchObject({ ok: true })
    if (r.ok) expect(r.signedThrough?.seq).toBe(last.seq)
    const file = path.join(work, 'a.jsonl')
    writeFileSync(file, toAuditJsonl({ entries, hashes, checkpoints }))
    const rfile = path.join(work, 'receipts.json')
    writeFileSync(rfile, JSON.stringify(receipts))
    const cli = await runCli(['audit', 'verify', '--file', file, '--public-key', publicKey, '--wallet', t.a.wallet, '--receipt', rfile])
    expect(cli.code).toBe(0)
    expect(cli.stdout).toContain(`${receipts.length} receipts found in the thread`)
  })

  it('cut export + a receipt whose walletSeq the host lowered in transit: the walletSeq comparison passes, the receipt check does not', async () => {
    const cut = { entries: entries.slice(0, -1), hashes: hashes.slice(0, -1), checkpoints: checkpoints.filter((c) => c.seq < entries[entries.length - 1]!.seq) }
    const honest = receipts[receipts.length - 1]!
    const lowered = { ...honest, walletSeq: 1 } // nothing signs it: the SDK keeps what the host relays
    const thread = verifyWalletThread({ wallet: t.a.wallet, ...cut, publicKey })
    expect(thread).toMatchObject({ ok: true })
    if (thread.ok) expect(thread.thread[thread.thread.length - 1]!.walletSeq).toBeGreaterThanOrEqual(lowered.walletSeq) // the documented comparison: "not cut"
    for (const receipt of [honest, lowered]) {
      expect(verifyWalletThread({ wallet: t.a.wallet, ...cut, publicKey, receipts: [receipt] })).toMatchObject({ ok: false, code: 'receipt_entry_missing', seq: honest.seq })
    }
    // On the honest export the lowered walletSeq itself is caught (the entry at its seq says otherwise).
    expect(verifyWalletThread({ wallet: t.a.wallet, entries, hashes, checkpoints, publicKey, receipts: [lowered] })).toMatchObject({ ok: false, code: 'receipt_entry_mismatch' })
    const file = path.join(work, 'a-cut.jsonl')
    writeFileSync(file, toAuditJsonl(cut))
    const rfile = path.join(work, 'lowered.json')
    writeFileSync(rfile, JSON.stringify(lowered))
    const cli = await runCli(['audit', 'verify', '--file', file, '--public-key', publicKey, '--wallet', t.a.wallet, '--receipt', rfile])
    expect(cli.code).toBe(1)
    expect(cli.stdout).toContain('receipt_entry_missing')
  })

  it('receipts alone (no stored checkpoints) sign the thread through A\'s last entry; a forged checkpoint is refused', () => {
    const noCps = verifyWalletThread({ wallet: t.a.wallet, entries, hashes, checkpoints: [], publicKey, receipts })
    expect(noCps).toMatchObject({ ok: true })
    if (noCps.ok) expect(noCps.signedThrough?.seq ?? null).toBe(receipts[receipts.length - 1]!.seq)
    const forged = { ...receipts[0]!, checkpoint: { ...receipts[0]!.checkpoint, time: receipts[0]!.checkpoint.time + 1 } }
    expect(verifyWalletThread({ wallet: t.a.wallet, entries, hashes, checkpoints, publicKey, receipts: [forged] })).toMatchObject({ ok: false, code: 'receipt_checkpoint_invalid' })
  })
})
