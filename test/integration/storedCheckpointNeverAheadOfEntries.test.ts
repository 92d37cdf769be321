import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseAuditJsonl } from '../../shared/audit/exportFormats.js'
import { verifyAuditLog } from '../../shared/audit/verifyAuditLog.js'
import { type StackWithAgent, eip3009, paymentPolicy, postSign, signedBody, stackWithAgent, waitAgentFloor } from '../helpers/agentClient.js'
import { type AheadFrame, type FrameHoldProxy, frameHoldProxy } from '../helpers/frameHoldProxy.js'
import { waitFor } from '../helpers/startStack.js'

/**
 * The enclave signs one checkpoint over its head for every answer completed in the same turn, and the answers
 * leave one by one: an answer's persist block can carry a checkpoint past its own entries, whose entries come in
 * the next answers. The host must not store such a checkpoint before those entries (a live export would end before
 * its own signed checkpoint: `audit_truncated`, the crashSoak failure of stop 29), nor keep it when the enclave
 * dies before sending them (the restarted enclave writes other entries at those seqs). Real host and simulated
 * enclave; a proxy on their channel holds the answers after the first such block.
 */
describe('a stored checkpoint never runs ahead of the stored entries (real host + enclave, frames held)', () => {
  let s: StackWithAgent
  let proxy: FrameHoldProxy
  let publicKey: string

  beforeAll(async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'bursar-'))
    proxy = await frameHoldProxy(path.join(dataDir, 'proxy.sock'), path.join(dataDir, 'enclave.sock'))
    s = await stackWithAgent(paymentPolicy({ perTx: '1000000', rolling24h: '1000000000' }), { dataDir, env: { BURSAR_ENCLAVE: `unix:${proxy.path}` } })
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
  const pay = () => postSign(s.stack.url, signedBody({ agentKey: s.agentKey, wallet: s.wallet, operation: eip3009({ wallet: s.wallet, value: 1n }) })).catch(() => null)

  /** Bursts of concurrent payments until one answer carries a checkpoint past its entries; the answers after it are held. */
  const burstUntilAhead = async (): Promise<{ ahead: AheadFrame; inFlight: Promise<unknown>[] }> => {
    const held = proxy.holdAfterAhead()
    let ahead: AheadFrame | null = null
    void held.then((a) => (ahead = a))
    const inFlight: Promise<unknown>[] = []
    for (let round = 0; round < 40 && !ahead; round++) {
      const burst = Array.from({ length: 8 }, pay)
      inFlight.push(...burst)
      await Promise.race([Promise.all(burst), held])
    }
    expect(ahead, 'no answer carried a checkpoint past its own entries in 40 bursts of 8').not.toBeNull()
    return { ahead: ahead!, inFlight }
  }

  it('an export while the entries a stored answer’s checkpoint covers are still in flight verifies', async () => {
    const { ahead, inFlight } = await burstUntilAhead()
    try {
      await checkWhileHeld(ahead)
    } finally {
      proxy.release()
    }
    await Promise.all(inFlight)
    // Once the entries are in, the checkpoint that waited for them is stored: the log's signed head reaches its end.
    await waitFor(() => storedThrough(ahead.checkpointSeq), 10_000, `entry ${ahead.checkpointSeq} stored`)
    const after = await exportLog()
    expect(after.verdict).toMatchObject({ ok: true })
    expect(after.log.checkpoints.some((c) => c.seq === ahead.checkpointSeq)).toBe(true)
    if (after.verdict.ok) expect(after.verdict.signedHead?.seq).toBe(after.verdict.head.seq)
  }, 60_000)

  const checkWhileHeld = async (ahead: AheadFrame) => {
    // The answer that went through is stored (its entries); the ones holding entries up to its checkpoint are not.
    await waitFor(() => storedThrough(ahead.lastSeq), 10_000, `entry ${ahead.lastSeq} stored`)
    expect(await storedThrough(ahead.checkpointSeq)).toBe(false)
    const during = await exportLog()
    const lastEntry = during.log.entries.at(-1)!.seq
    expect(lastEntry).toBe(ahead.lastSeq)
    expect(Math.max(...during.log.checkpoints.map((c) => c.seq))).toBeLessThanOrEqual(lastEntry)
    expect(during.verdict).toMatchObject({ ok: true })
    const head = ((await (await fetch(`${s.stack.url}/v1/audit/head`)).json()) as { checkpoint: { seq: number } | null }).checkpoint
    expect(head?.seq ?? -1).toBeLessThanOrEqual(lastEntry)
  }

  it('the enclave dies before sending the entries a stored answer’s checkpoint covers: the log still verifies after its restart', async () => {
    const { ahead, inFlight } = await burstUntilAhead()
    try {
      await waitFor(() => storedThrough(ahead.lastSeq), 10_000, `entry ${ahead.lastSeq} stored`)
      const exited = new Promise((r) => s.stack.enclave.once('exit', r))
      s.stack.enclave.kill('SIGKILL')
      await exited
    } finally {
      proxy.drop()
    }
    await proxy.unlisten()
    await Promise.all(inFlight)
    s.stack.logs.length = 0
    await s.stack.startEnclave()
    await proxy.listen()
    await s.stack.waitReady(30_000)
    // The restarted enclave continues from the stored entries: nothing it signed before covers what it writes next.
    const restarted = await exportLog()
    expect(restarted.verdict).toMatchObject({ ok: true })
    await waitAgentFloor()
    for (let i = 0; i < 3; i++) await Promise.all(Array.from({ length: 4 }, pay))
    const later = await exportLog()
    expect(later.log.entries.at(-1)!.seq).toBeGreaterThanOrEqual(ahead.checkpointSeq)
    expect(later.verdict).toMatchObject({ ok: true })
  }, 90_000)
})
