import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type MaliciousHost, hasSignature, refusalCode } from '../helpers/maliciousHost.js'
import { type TwoWallets, blobOf, droppedBlob, secondEnclave, startWithTwoWallets, walletEntries } from '../helpers/twoWallets.js'

/**
 * rt31a. Attack (issue 15 step 3): the host captures an agent's signed payment request that enclave A decided, moves
 * the wallet to enclave B (an ordered drop, or the crash path: A's older blob plus the tail of entries after it), and
 * sends the same request to B within its freshness window, hoping B (which never saw that nonce) signs the payment a
 * second time. Defined outcome: the wallet's recent request ids travel with it (the final blob carries its agents'
 * ids; a tail entry carries its own request id) and B refuses the resend as request_replayed, with no signature;
 * a fresh request of the same agent is signed (the refusal is the replay's, not the cap's or the load's).
 * Real enclave processes of one lineage (the B process started before the requests, so its start floor is not why).
 */
describe('adversarial: the host replays a decided request to the enclave a wallet moved to', () => {
  let t: TwoWallets
  let b: MaliciousHost

  beforeAll(async () => {
    t = await startWithTwoWallets()
    b = await secondEnclave(t.host)
    await t.host.waitAgentFloor()
    await b.waitAgentFloor()
  })
  afterAll(async () => {
    await b?.stop()
    await t?.host.stop()
  })

  it('after a drop and load: the resend of a request A signed is request_replayed at B', async () => {
    const req = t.pay(t.a)
    const first = await t.host.agentSign(req)
    expect(first.ok, JSON.stringify(first)).toBe(true)
    // The crash path's material for t.b, taken now: its newest stored blob and a payment after it (the tail).
    const reqB = t.pay(t.b)
    expect((await t.host.agentSign(reqB)).ok).toBe(true)
    const snap = t.host.latestSnapshot()!
    const blobB = blobOf(t.host, snap, t.b.wallet)
    const tailB = walletEntries(t.host.entries, t.b.wallet, snap.auditSeq)
    expect(tailB.length).toBeGreaterThan(0)

    const d = await t.host.call({ type: 'dropWallet', wallet: t.a.wallet })
    expect(d.ok, JSON.stringify(d)).toBe(true)
    const loaded = await b.call({ type: 'loadWallet', wallet: t.a.wallet, blob: droppedBlob(d, t.a.wallet).blob, entries: [] })
    expect(loaded.ok, JSON.stringify(loaded)).toBe(true)
    const again = await b.agentSign(req)
    expect(refusalCode(again)).toBe('request_replayed')
    expect(hasSignature(again)).toBe(false)
    expect((await b.agentSign(t.pay(t.a))).ok).toBe(true) // a fresh request of that agent is signed

    // Crash path: A is gone without a drop; B takes t.b from its older blob and the tail holding reqB's decision.
    await t.host.stopEnclave()
    const tookB = await b.call({ type: 'loadWallet', wallet: t.b.wallet, blob: blobB, entries: tailB })
    expect(tookB.ok, JSON.stringify(tookB)).toBe(true)
    const againB = await b.agentSign(reqB)
    expect(refusalCode(againB)).toBe('request_replayed')
    expect(hasSignature(againB)).toBe(false)
    expect((await b.agentSign(t.pay(t.b))).ok).toBe(true)
  })
})

/**
 * fix15: the same attack against an enclave started AFTER the requests were issued (a per-wallet pair restarted by its
 * supervisor that retakes its wallets). Its start floor no longer refuses requests for a wallet it loaded (that
 * refusal, on a resend, read as "maybe signed" at the agent): the wallet's ids came with it, so the replay of a
 * request A decided is still request_replayed with no signature, while a request issued before B's start that A never
 * decided is signed once (and its own resend is replayed).
 */
describe('adversarial: the host replays a decided request to a wallet\'s new enclave started after it', () => {
  let t: TwoWallets
  let b: MaliciousHost

  beforeAll(async () => {
    t = await startWithTwoWallets()
    await t.host.waitAgentFloor()
  })
  afterAll(async () => {
    await b?.stop()
    await t?.host.stop()
  })

  it('no start floor for a loaded wallet: the decided request is request_replayed at B, an undecided one signed once', async () => {
    const decided = t.pay(t.a)
    expect((await t.host.agentSign(decided)).ok).toBe(true)
    const undecided = t.pay(t.a) // signed by the agent, never reached A
    b = await secondEnclave(t.host) // starts after both requests were issued
    const d = await t.host.call({ type: 'dropWallet', wallet: t.a.wallet })
    expect(d.ok, JSON.stringify(d)).toBe(true)
    await t.host.stopEnclave()
    const loaded = await b.call({ type: 'loadWallet', wallet: t.a.wallet, blob: droppedBlob(d, t.a.wallet).blob, entries: [] })
    expect(loaded.ok, JSON.stringify(loaded)).toBe(true)
    const again = await b.agentSign(decided)
    expect(refusalCode(again)).toBe('request_replayed')
    expect(hasSignature(again)).toBe(false)
    const fresh = await b.agentSign(undecided)
    expect(fresh.ok, JSON.stringify(fresh)).toBe(true)
    const twice = await b.agentSign(undecided)
    expect(refusalCode(twice)).toBe('request_replayed')
    expect(hasSignature(twice)).toBe(false)
  })
})
