import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type MaliciousHost, type SealedSnapshot, hasSignature, refusalCode } from '../helpers/maliciousHost.js'
import { AMOUNT, CAP, type TwoWallets, blobOf, droppedBlob, secondEnclave, startWithTwoWallets, walletEntries } from '../helpers/twoWallets.js'

/**
 * Attack (issue 15 step 3): the host hands loadWallet a STALE blob of wallet W — one sealed before W's later spends
 * and owner acts — hoping W's budget comes back. Defined outcomes:
 * - into the enclave that dropped W (it remembers its final blob's version and SHA-256): an older version →
 *   state_wallet_stale (the sim sealer's high-water mark: seal_version_rollback); another wallet's blob → state_wallet_foreign;
 * - into another enclave with the stale blob and the tail after it: the tail must continue the blob's thread, and an
 *   owner act in it proves the blob older than the wallet's state → state_rollback_detected;
 * - with the tail cut to the agent decisions only, the tail rebuilds W's spends (W stays at its cap).
 * Residual (docs/scale.md): an enclave that never held W cannot tell a stale blob handed with an EMPTY tail from the
 * newest one — the same as cutting a restart's tail (residual risk 1); receipts' walletSeq high-water marks show it.
 */
describe('adversarial: the host hands a stale blob of a wallet to loadWallet', () => {
  let t: TwoWallets
  let b: MaliciousHost
  let old: SealedSnapshot
  let final: { version: number; blob: Uint8Array }

  beforeAll(async () => {
    t = await startWithTwoWallets()
    b = await secondEnclave(t.host)
    await t.host.waitAgentFloor()
    await b.waitAgentFloor()
    old = t.host.latestSnapshot()!
    for (let i = 0n; i < CAP / AMOUNT; i++) await t.payOk(t.a)
    // An owner act on W after the spends (sealed at once), then the drop.
    expect((await t.host.walletAct(t.owner, 'FreezeAgent', t.a.wallet, { agentId: t.a.agent.agentId, frozen: false })).ok).toBe(true)
    const d = await t.host.call({ type: 'dropWallet', wallet: t.a.wallet })
    final = droppedBlob(d, t.a.wallet)
  })
  afterAll(async () => {
    await b?.stop()
    await t?.host.stop()
  })

  it('into the enclave that dropped W: an older blob → state_wallet_stale; another wallet\'s blob → state_wallet_foreign', async () => {
    const stale = blobOf(t.host, old, t.a.wallet)
    // The sim sealer's own per-process high-water mark refuses it first; under KMS (no such mark) the enclave's own
    // memory of the drop does (state_wallet_stale: enclave/state/walletMove.test.ts, sealer without the mark).
    expect(['seal_version_rollback', 'state_wallet_stale']).toContain(refusalCode(await t.host.call({ type: 'loadWallet', wallet: t.a.wallet, blob: stale, entries: [] })))
    // Another wallet's blob under W's name, and W's blob under another's: sealed for another wallet.
    expect(refusalCode(await t.host.call({ type: 'loadWallet', wallet: t.a.wallet, blob: blobOf(t.host, old, t.b.wallet), entries: [] }))).toBe('state_wallet_foreign')
    const r = await t.host.agentSign(t.pay(t.a))
    expect(refusalCode(r)).toBe('wallet_not_loaded')
    expect(hasSignature(r)).toBe(false)
  })

  it('into another enclave: the stale blob with its tail (an owner act in it) → state_rollback_detected', async () => {
    const stale = blobOf(t.host, old, t.a.wallet)
    const tail = walletEntries(t.host.entries, t.a.wallet, old.auditSeq).filter((x) => !x.includes('"wallet_dropped"'))
    expect(tail.some((x) => x.includes('"owner_act"'))).toBe(true)
    expect(refusalCode(await b.call({ type: 'loadWallet', wallet: t.a.wallet, blob: stale, entries: tail }))).toBe('state_rollback_detected')
    expect(refusalCode(await b.agentSign(t.pay(t.a)))).toBe('wallet_not_found')
  })

  it('into another enclave: the stale blob with the tail cut before the owner act rebuilds the spends: W stays at its cap', async () => {
    const stale = blobOf(t.host, old, t.a.wallet)
    const tail = walletEntries(t.host.entries, t.a.wallet, old.auditSeq)
    const decisions = tail.slice(0, tail.findIndex((x) => x.includes('"owner_act"')))
    expect(decisions.length).toBe(Number(CAP / AMOUNT))
    const r = await b.call({ type: 'loadWallet', wallet: t.a.wallet, blob: stale, entries: decisions })
    expect(r.ok, JSON.stringify(r)).toBe(true)
    expect(refusalCode(await b.agentSign(t.pay(t.a)))).toBe('policy_daily_cap_exceeded')
  })

  it('the final blob itself loads back into the enclave that dropped it (same version, same SHA-256)', async () => {
    const r = await t.host.call({ type: 'loadWallet', wallet: t.a.wallet, blob: final.blob, entries: [] })
    expect(r.ok, JSON.stringify(r)).toBe(true)
    expect(refusalCode(await t.host.agentSign(t.pay(t.a)))).toBe('policy_daily_cap_exceeded')
  })
})
