import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type MaliciousHost, hasSignature, refusalCode } from '../helpers/maliciousHost.js'
import { type TwoWallets, blobOf, droppedBlob, secondEnclave, startWithTwoWallets } from '../helpers/twoWallets.js'

/**
 * rt32c, against fix15 (no start floor for a wallet that arrived by loadWallet, `Enclave.carried`). Attack: the host
 * captures a request A decided and signed, then hands wallet W to an enclave with an OLD blob of W (sealed before
 * that decision) and an empty tail (the stored entries after the blob cut off), and resends the request, hoping for a
 * second signature of one request id.
 *
 * Outcome, stated plainly: the enclave cannot tell a cut tail from a complete one (no monotonic counter), so the
 * resend is decided afresh and signed — into an enclave started AFTER the request (C: what fix15 newly lets through;
 * before fix15 its start floor refused it) exactly as into one started BEFORE it (B: a standby of the lineage, whose
 * floor never applied — the same load was signed there before fix15 too). A host can start such a standby at any
 * time, so fix15 widens no capability: this is the documented residual (docs/scale.md step 3 "Residuals" (b), SECURITY.md
 * residual risk 1: a stale blob with an empty tail forgets the spends and request ids after it). The test pins both
 * halves so a change to either shows up, and that the residual stays bounded: the re-signed request is counted again
 * against W's cap (the old blob's budget), never past it.
 */
describe('adversarial: the host loads a stale wallet blob with a cut tail into a restarted enclave (fix15 floor skip)', () => {
  let t: TwoWallets
  let b: MaliciousHost
  let c: MaliciousHost

  beforeAll(async () => {
    t = await startWithTwoWallets('production') // C's floor (start + 2 s) is half of what this pins
    b = await secondEnclave(t.host) // the standby, started before the request
    await t.host.waitAgentFloor()
    await b.waitAgentFloor()
  })
  afterAll(async () => {
    await c?.stop()
    await b?.stop()
    await t?.host.stop()
  })

  it('the same exposure with and without the floor: a standby started before the request and a fresh enclave both sign it again', async () => {
    const stale = blobOf(t.host, t.host.latestSnapshot()!, t.a.wallet) // W's blob before the decision
    const req = t.pay(t.a)
    const first = await t.host.agentSign(req)
    expect(first.ok, JSON.stringify(first)).toBe(true)
    c = await secondEnclave(t.host) // started after the request was issued and decided

    // Before fix15 this was the only refusal of the two: C's start floor.
    const atC = await c.call({ type: 'loadWallet', wallet: t.a.wallet, blob: stale, entries: [] })
    expect(atC.ok, JSON.stringify(atC)).toBe(true)
    const againC = await c.agentSign(req)
    expect(againC.ok, JSON.stringify(againC)).toBe(true) // the residual, now also at a restarted enclave

    // …and the same load into the standby, which no floor ever covered (the pre-fix15 exposure).
    const atB = await b.call({ type: 'loadWallet', wallet: t.a.wallet, blob: stale, entries: [] })
    expect(atB.ok, JSON.stringify(atB)).toBe(true)
    const againB = await b.agentSign(req)
    expect(againB.ok, JSON.stringify(againB)).toBe(true)

    // Bounded by the stale blob's budget at each holder: CAP / AMOUNT = 5 payments there, the sixth refused.
    for (const h of [c, b]) {
      for (let i = 0; i < 4; i++) expect((await h.agentSign(t.pay(t.a))).ok).toBe(true)
      const over = await h.agentSign(t.pay(t.a))
      expect(over.ok).toBe(false)
      expect(hasSignature(over)).toBe(false)
    }
  })

  it('the floor skip lives in the process: a restart that loads W from its own core brings the floor back', async () => {
    // C holds W by loadWallet (carried). A request issued now, then C restarts and loads its newest core (naming W).
    const before = t.pay(t.a)
    await c.restartEnclave()
    const ready = await c.bootstrapHonest()
    expect(ready.ok, JSON.stringify(ready)).toBe(true)
    const r = await c.agentSign(before)
    expect(refusalCode(r)).toBe('request_before_enclave_start')
    expect(hasSignature(r)).toBe(false)
    // A drop and a reload of the drop's final blob in that same process carries W again: its ids came with it.
    const d = await c.call({ type: 'dropWallet', wallet: t.a.wallet })
    expect(d.ok, JSON.stringify(d)).toBe(true)
    const again = await c.call({ type: 'loadWallet', wallet: t.a.wallet, blob: droppedBlob(d, t.a.wallet).blob, entries: [] })
    expect(again.ok, JSON.stringify(again)).toBe(true)
    const replayed = await c.agentSign(before)
    // `before` was never decided anywhere (refused by the floor, which records no id): it may be decided now, once.
    expect(refusalCode(replayed) ?? 'ok').not.toBe('request_before_enclave_start')
  })
})
