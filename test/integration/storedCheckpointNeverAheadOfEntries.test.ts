import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AuditCheckpoint } from '../../shared/audit/auditEntry.js'
import { parseAuditJsonl } from '../../shared/audit/exportFormats.js'
import { verifyAuditLog } from '../../shared/audit/verifyAuditLog.js'
import { type AuditReceipt, verifyReceipt } from '../../shared/audit/verifyReceipt.js'
import { type StackWithAgent, eip3009, paymentPolicy, postSign, signedBody, stackWithAgent, waitAgentFloor } from '../helpers/agentClient.js'
import { type AheadFrame, type FrameHoldProxy, frameHoldProxy } from '../helpers/frameHoldProxy.js'
import { waitFor } from '../helpers/startStack.js'

/**
 * Concurrent answers complete in one enclave turn and leave one by one (ReleaseInOrder), and the host stores and
 * releases each as it comes. Until turn15 the enclave signed ONE checkpoint per turn, at the turn's last entry, and
 * gave it to every answer of the turn: an answer's block (and the agent's receipt in it) could name a head whose
 * entries were still in the next answers. Stored as it came, such a checkpoint ran ahead of the stored log (stop 29's
 * crashSoak `audit_truncated`; the host now holds one, EnclaveGateway.coverCheckpoints); released in a receipt, it named
 * a head the restarted enclave never writes when the enclave died before sending the rest (crash30): the receipt
 * failed against an honest log, and beside the restarted enclave's own checkpoint at that seq it looked like a fork.
 * Now each block's checkpoint signs its own last entry. Real host and simulated enclave; a proxy on their channel
 * lets the first answer of a burst through and holds the rest of the turn's answers.
 */
describe('a stored or released checkpoint never runs ahead of the stored entries (real host + enclave, frames held)', () => {
  let s: StackWithAgent
  let proxy: FrameHoldProxy
  let publicKey: string
  /** Every receipt an agent received in this file. */
  const receipts: AuditReceipt[] = []

  beforeAll(async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'bursar-'))
    proxy = await frameHoldProxy(path.join(dataDir, 'proxy.sock'), path.join(dataDir, 'enclave.sock'))
    s = await stackWithAgent(paymentPolicy({ perTx: '1000000', rolling24h: '1000000000' }), { dataDir, env: { BURSAR_ENCLAVE: `unix:${proxy.path}`, BURSAR_GOVERNANCE: `unix:${path.join(dataDir, 'enclave.sock.gov')}` } })
    publicKey = ((await (await fetch(`${s.stack.url}/readyz`)).json()) as { receiptPublicKey: string }).receiptPublicKey
    await waitAgentFloor()
  }, 60_000)
  afterAll(async () => {
    await s?.stack.stop()
    await proxy?.close()
  })

  const exportLog = async () => {
    const res = await fetch(`${s.stack.url}/v1/audit/export?format=jsonl`, { headers: { authorization: `Bearer ${s.stack.auditToken}` } })
    expect(res.status).toBe(200)
    const log = parseAuditJsonl(await res.text())
    return { log, verdict: verifyAuditLog({ ...log, publicKey }) }
  }
  const storedThrough = async (seq: number) => {
    const res = await fetch(`${s.stack.url}/v1/audit/entries?after=${seq - 1}&limit=1`, { headers: { authorization: `Bearer ${s.stack.auditToken}` } })
    return ((await res.json()) as { entries: unknown[] }).entries.length === 1
  }
  const pay = async () => {
    const r = await postSign(s.stack.url, signedBody({ agentKey: s.agentKey, wallet: s.wallet, operation: eip3009({ wallet: s.wallet, value: 1n }) })).catch(() => null)
    if (r?.status === 200) receipts.push(r.json.receipt as AuditReceipt)
    return r
  }

  /** A burst of concurrent payments: the first answer frame goes through, the rest of its turn is held. */
  const burstMidTurn = async (): Promise<{ first: AheadFrame; inFlight: Promise<unknown>[] }> => {
    const held = proxy.holdAfterEntries()
    const inFlight = Array.from({ length: 8 }, pay)
    const first = await held
    await waitFor(async () => proxy.held > 0, 10_000, 'an answer of the same burst held')
    return { first, inFlight }
  }

  it('no answer carries a checkpoint past its own entries; an export while the turn’s other answers are held verifies, signed to its end', async () => {
    for (let i = 0; i < 5; i++) await Promise.all(Array.from({ length: 8 }, pay))
    const { first, inFlight } = await burstMidTurn()
    try {
      expect(first.checkpointSeq).toBe(first.lastSeq)
      await waitFor(() => storedThrough(first.lastSeq), 10_000, `entry ${first.lastSeq} stored`)
      const during = await exportLog()
      expect(during.log.entries.at(-1)!.seq).toBe(first.lastSeq)
      expect(during.verdict).toMatchObject({ ok: true })
      if (during.verdict.ok) expect(during.verdict.signedHead?.seq).toBe(first.lastSeq)
      const head = ((await (await fetch(`${s.stack.url}/v1/audit/head`)).json()) as { checkpoint: { seq: number } | null }).checkpoint
      expect(head?.seq).toBe(first.lastSeq)
    } finally {
      proxy.release()
    }
    await Promise.all(inFlight)
    expect(proxy.ahead).toBe(0)
    const after = await exportLog()
    expect(after.verdict).toMatchObject({ ok: true })
    if (after.verdict.ok) expect(after.verdict.signedHead?.seq).toBe(after.verdict.head.seq)
  }, 60_000)

  it('the enclave is SIGKILLed mid-turn: every receipt an agent received verifies against the log the restarted pair writes', async () => {
    // Counted before the burst: its first answer can reach its agent while burstMidTurn still waits for a held one.
    const before = receipts.length
    const { first, inFlight } = await burstMidTurn()
    try {
      await waitFor(() => storedThrough(first.lastSeq), 10_000, `entry ${first.lastSeq} stored`)
      // The first answer of the turn reaches its agent (stored, then released) before the enclave dies.
      await waitFor(async () => receipts.some((r) => r.seq === first.lastSeq), 10_000, 'the first answer released')
      const exited = new Promise((r) => s.stack.enclave.once('exit', r))
      s.stack.enclave.kill('SIGKILL')
      await exited
    } finally {
      proxy.drop()
    }
    await proxy.unlisten()
    await Promise.all(inFlight)
    const killedTurn = receipts.slice(before)
    expect(killedTurn.map((r) => r.seq)).toContain(first.lastSeq)
    s.stack.logs.length = 0
    await s.stack.startEnclave()
    await proxy.listen()
    await s.stack.waitReady(30_000)
    await waitAgentFloor()
    // The restarted enclave writes its own entries at the seqs of the dropped answers (and checkpoints over them).
    for (let i = 0; i < 3; i++) await Promise.all(Array.from({ length: 4 }, pay))
    const later = await exportLog()
    expect(later.log.entries.at(-1)!.seq).toBeGreaterThan(first.lastSeq + 1)
    expect(later.verdict).toMatchObject({ ok: true })
    for (const receipt of receipts) expect(verifyReceipt({ receipt, entries: later.log.entries, publicKey }), `receipt at seq ${receipt.seq}`).toMatchObject({ ok: true })
    // Beside the stored checkpoints, the agents' ones sign no other head at any seq (no false fork, no head past the log).
    const all = [...later.log.checkpoints, ...receipts.map((r) => r.checkpoint as AuditCheckpoint)]
    expect(verifyAuditLog({ ...later.log, checkpoints: all, publicKey })).toMatchObject({ ok: true })
    expect(proxy.ahead).toBe(0)
  }, 90_000)
})
