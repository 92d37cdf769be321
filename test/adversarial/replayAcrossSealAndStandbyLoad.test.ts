import type { Hex } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  MaliciousHost,
  type TestAgent,
  eip3009,
  hasSignature,
  paymentPolicy,
  refusalCode,
  signAgentRequest,
  startWithAgent,
  verifyPayment,
} from '../helpers/maliciousHost.js'

const seqOf = (host: MaliciousHost, nonce: string) =>
  host.entries.map((t) => JSON.parse(t) as { seq: number; requestId: string | null; event: string }).find((e) => e.requestId === nonce && e.event === 'sign_allowed')!.seq

/**
 * Attack (issue 18, replay18): the host re-sends a captured, already signed agent request after the enclave's
 * periodic (staggered) seals, and to another enclave process that loads the sealed state: a standby started before the
 * request was issued (its start floor does not refuse it; only the replay ids sealed with the wallet, or given back by
 * the replayed log, do), then after that enclave's restart. The ids are now indexed per agent and their sealed CBOR
 * cached per second: a cache or index bug that left an id out of its wallet's blob would sign the resend twice.
 * Real enclave processes (the built sim enclave), the host a test double that keeps every persist block.
 */
describe('adversarial: a signed request resent across seals, a standby load and a restart', () => {
  let a: MaliciousHost
  let standby: MaliciousHost
  let wallet: Hex
  let agent: TestAgent
  let other: TestAgent
  const every = process.env.BURSAR_SNAPSHOT_EVERY
  beforeAll(async () => {
    process.env.BURSAR_SNAPSHOT_EVERY = '16' // a staggered seal check every entry; the wallet due every 16 entries
    const s = await startWithAgent(paymentPolicy({ perTx: '5000', rolling24h: '100000000' }), 'production')
    ;[a, wallet, agent] = [s.host, s.wallet, s.agent]
    other = (await a.setupAgent(s.owner, wallet, paymentPolicy({ perTx: '5000', rolling24h: '100000000' }))).agent
    // The standby enclave: same data dir (same sealing key), started now, so requests issued from here on pass its floor.
    standby = new MaliciousHost(a.dataDir, 'standby.sock')
    standby.agentFloor = 'production' // its replay refusal may be the floor's (request_before_enclave_start)
    await standby.startEnclave()
    await Promise.all([a.waitAgentFloor(), standby.waitAgentFloor()])
  }, 60_000)
  afterAll(async () => {
    if (every === undefined) delete process.env.BURSAR_SNAPSHOT_EVERY
    else process.env.BURSAR_SNAPSHOT_EVERY = every
    await a?.stop()
    await standby?.stop()
  })

  it('refused (request_replayed, no signature) after periodic seals, on a standby that loaded them, and after its restart', async () => {
    const pay = (who: TestAgent) => signAgentRequest({ agent: who, wallet, operation: eip3009({ wallet, value: 1000n }) })
    const captured = [pay(agent), pay(other)]
    for (const r of captured) {
      const first = await a.agentSign(r)
      expect(first.ok).toBe(true)
      expect(await verifyPayment(wallet, r.parsed, (first as { result: { signature: Hex } }).result.signature)).toBe(true)
    }
    const sealsBefore = a.snapshots.length
    // Fresh requests from both agents until two periodic seals have gone out after the captured ones.
    for (let i = 0; a.snapshots.length < sealsBefore + 2; i++) {
      expect(i).toBeLessThan(200)
      expect((await a.agentSign(pay(i % 2 ? agent : other))).ok).toBe(true)
    }
    const sealed = a.latestSnapshot()!
    expect(sealed.wallets?.map((w) => w.wallet.toLowerCase())).toContain(wallet.toLowerCase())
    // The core this seal names starts replay after the captured requests: only the wallet's blob holds their ids.
    for (const r of captured) expect(seqOf(a, r.parsed.nonce)).toBeLessThanOrEqual(sealed.auditSeq)

    // 1. The same enclave, after its seals.
    for (const r of captured) {
      const again = await a.agentSign(r)
      expect(refusalCode(again)).toBe('request_replayed')
      expect(hasSignature(again)).toBe(false)
    }
    // One more, decided after the last seal: a standby gets its id back from the replayed log only.
    const late = pay(agent)
    expect((await a.agentSign(late)).ok).toBe(true)
    expect(a.latestSnapshot()).toBe(sealed)
    expect(seqOf(a, late.parsed.nonce)).toBeGreaterThan(sealed.auditSeq)

    // 2. The deciding enclave dies; the standby (started before these requests were issued) loads what it sealed.
    await a.stopEnclave()
    standby.snapshots.push(...a.snapshots)
    standby.entries.push(...a.entries)
    const ready = await standby.bootstrapHonest()
    expect(ready.ok).toBe(true)
    for (const r of [...captured, late]) {
      const again = await standby.agentSign(r)
      expect(hasSignature(again)).toBe(false)
      // Not refused by the floor (the standby started before it was issued) nor as stale: the replay ids refuse it.
      expect(refusalCode(again)).toBe('request_replayed')
    }
    expect(Date.now() - captured[0]!.parsed.issuedAt).toBeLessThan(28_000)
    // The standby signs fresh requests (the load itself broke nothing), and seals again.
    const fresh = pay(other)
    const ok = await standby.agentSign(fresh)
    expect(ok.ok).toBe(true)
    expect(await verifyPayment(wallet, fresh.parsed, (ok as { result: { signature: Hex } }).result.signature)).toBe(true)

    // 3. The standby restarts and loads its own newest seal: still no signature for any of them.
    await standby.restartEnclave()
    expect((await standby.bootstrapHonest()).ok).toBe(true)
    for (const r of [...captured, late, fresh]) {
      const again = await standby.agentSign(r)
      expect(hasSignature(again)).toBe(false)
      expect(['request_replayed', 'request_before_enclave_start']).toContain(refusalCode(again))
    }
    // Each captured request was signed exactly once across the three processes.
    const allowed = [...new Set([...a.entries, ...standby.entries])].map((t) => JSON.parse(t) as { event: string; requestId: string | null })
    for (const r of [...captured, late, fresh]) expect(allowed.filter((e) => e.event === 'sign_allowed' && e.requestId === r.parsed.nonce)).toHaveLength(1)
  }, 120_000)
})
