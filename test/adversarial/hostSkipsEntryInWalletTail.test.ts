import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type MaliciousHost, hasSignature, refusalCode } from '../helpers/maliciousHost.js'
import { AMOUNT, CAP, type TwoWallets, blobOf, secondEnclave, startWithTwoWallets, walletEntries } from '../helpers/twoWallets.js'

/**
 * Attack (issue 15 step 3): wallet W's holder A is gone without a drop (crash-only: a lost lease). B takes W over from
 * its newest sealed blob (sealed before W's payments) and the tail of W's entries after it — and the host leaves one
 * payment out of the tail (or hands an entry twice, or another wallet's entry), hoping B forgets that spend.
 * Defined outcome: the tail must continue the blob's thread exactly (walletSeq + 1, walletPrev = the previous entry's
 * hash): audit_resume_mismatch, nothing loads (W stays unheld at B: wallet_not_found), and a forged entry (not MAC'd
 * by the lineage) is state_invalid. The honest tail then loads and W stays at its cap. Cutting the tail's END (the
 * newest payments) is not detectable here: residual risk 1, as for a restart (docs/scale.md).
 */
describe('adversarial: the host skips an entry of the wallet tail it hands to loadWallet', () => {
  let t: TwoWallets
  let b: MaliciousHost
  let blob: Uint8Array
  let tail: string[]

  beforeAll(async () => {
    t = await startWithTwoWallets()
    b = await secondEnclave(t.host)
    await t.host.waitAgentFloor()
    await b.waitAgentFloor()
    for (let i = 0n; i < CAP / AMOUNT; i++) await t.payOk(t.a) // W at its cap in A; none of it sealed yet
    const snap = t.host.latestSnapshot()!
    blob = blobOf(t.host, snap, t.a.wallet)
    tail = walletEntries(t.host.entries, t.a.wallet, snap.auditSeq)
    expect(tail.length).toBe(Number(CAP / AMOUNT))
    await t.host.stopEnclave() // A is gone (no drop)
  })
  afterAll(async () => {
    await b?.stop()
    await t?.host.stop()
  })

  const load = (entries: string[]) => b.call({ type: 'loadWallet', wallet: t.a.wallet, blob, entries })

  it('a tail with one payment left out → audit_resume_mismatch; nothing loads', async () => {
    expect(refusalCode(await load(tail.filter((_, i) => i !== 2)))).toBe('audit_resume_mismatch')
    expect(refusalCode(await load(tail.slice(1)))).toBe('audit_resume_mismatch') // the first left out
    const r = await b.agentSign(t.pay(t.a))
    expect(refusalCode(r)).toBe('wallet_not_found')
    expect(hasSignature(r)).toBe(false)
  })

  it('a tail with an entry twice, or another wallet\'s entry in it, or a forged entry → refused', async () => {
    expect(refusalCode(await load([...tail.slice(0, 3), tail[2]!, ...tail.slice(3)]))).toBe('audit_resume_mismatch')
    const other = walletEntries(t.host.entries, t.b.wallet)
    expect(refusalCode(await load([...tail, other[other.length - 1]!]))).toBe('audit_resume_mismatch')
    const forged = JSON.parse(tail[1]!) as Record<string, unknown>
    forged.ledger = []
    expect(refusalCode(await load([tail[0]!, JSON.stringify(forged), ...tail.slice(2)]))).toBe('state_invalid')
  })

  it('the honest tail loads: W continues in B at its cap', async () => {
    const r = await load(tail)
    expect(r.ok, JSON.stringify(r)).toBe(true)
    expect(r.ok && r.result).toMatchObject({ replayed: tail.length })
    const over = await b.agentSign(t.pay(t.a))
    expect(refusalCode(over)).toBe('policy_daily_cap_exceeded')
    expect(hasSignature(over)).toBe(false)
    // A replayed request is refused too (its id travelled in the tail).
    expect(refusalCode(await b.call({ type: 'loadWallet', wallet: t.a.wallet, blob, entries: tail }))).toBe('wallet_already_loaded')
  })
})
