import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AuditEntry } from '../../shared/audit/auditEntry.js'
import { hashAuditEntry } from '../../shared/audit/hashAuditEntry.js'
import { type MaliciousHost, hasSignature, refusalCode } from '../helpers/maliciousHost.js'
import { AMOUNT, CAP, type TwoWallets, droppedBlob, secondEnclave, startWithTwoWallets, walletEntries } from '../helpers/twoWallets.js'

/** The stored text's entry (without the host-side hash and MAC beside it). */
const parse = (t: string): AuditEntry => {
  const { hash: _h, mac: _m, ...e } = JSON.parse(t) as AuditEntry & { hash: string; mac: string }
  return e
}

/**
 * Issue 15 step 3 through two real enclave processes of one lineage. A spends part of wallet W's cap, drops W (final
 * blob), B loads it and spends the rest: the ledger carries over (A's spend + B's spend = the cap, never more), W's
 * thread continues from A's chain into B's, and requests for W at A after the drop are wallet_not_loaded (also those
 * in flight behind the drop). Then the attack: the host asks an enclave to load a wallet it already holds (refused:
 * wallet_already_loaded) and asks A to load W again while B still holds it. That second one is the FORK RESIDUAL
 * (docs/scale.md, SECURITY.md): A cannot know B holds W, so it loads; both sign, each up to the budget left at the
 * fork. Bounded by one extra cap's remainder per extra holder, and visible in W's thread: two entries with the same
 * walletSeq and walletPrev in two chains. Closing it needs a trusted lease (step 4 fences the store, not the enclave).
 */
describe('adversarial: the host loads a wallet into an enclave while another holds it (move A → B, then the fork)', () => {
  let t: TwoWallets
  let b: MaliciousHost
  let W: TwoWallets['a']
  let final: { version: number; blob: Uint8Array }
  const spent = { a: 0n, b: 0n }

  beforeAll(async () => {
    t = await startWithTwoWallets()
    b = await secondEnclave(t.host)
    W = t.a
    await t.host.waitAgentFloor()
    await b.waitAgentFloor()
  })
  afterAll(async () => {
    await b?.stop()
    await t?.host.stop()
  })

  it('A drops W (in-flight requests signed before the drop or refused after it); B loads it; the cap holds across both', async () => {
    await t.payOk(W)
    spent.a += AMOUNT
    const ownerSeq = await t.host.ownerSeq(W.wallet)
    // Three payments and the drop in flight at once on one connection: each payment is decided before the drop
    // (signed, its entry before wallet_dropped) or refused as wallet_not_loaded; none is lost or decided after.
    const inflight = [t.host.agentSign(t.pay(W)), t.host.agentSign(t.pay(W))]
    const drop = t.host.call({ type: 'dropWallet', wallet: W.wallet })
    const late = t.host.agentSign(t.pay(W))
    const [r1, r2, d, r3] = await Promise.all([...inflight, drop, late])
    expect(d!.ok, JSON.stringify(d)).toBe(true)
    final = droppedBlob(d!, W.wallet)
    const dropEntry = parse(d!.persist!.entries[0]!)
    expect(dropEntry).toMatchObject({ event: 'wallet_dropped', wallet: W.wallet })
    for (const r of [r1!, r2!, r3!]) {
      if (r.ok) {
        expect((r.result as { receipt: { seq: number } }).receipt.seq).toBeLessThan(dropEntry.seq)
        spent.a += AMOUNT
      } else expect(refusalCode(r)).toBe('wallet_not_loaded')
    }
    expect(refusalCode(r3!)).toBe('wallet_not_loaded') // sent after the drop on the same connection
    expect(d!.persist!.sealed).not.toBeNull()
    // After the drop A refuses W's agent requests and owner acts; its other wallet serves on.
    const after = await t.host.agentSign(t.pay(W))
    expect(refusalCode(after)).toBe('wallet_not_loaded')
    expect(hasSignature(after)).toBe(false)
    const act = { wallet: W.wallet, agentId: W.agent.agentId, frozen: false, seq: String(ownerSeq + 1) }
    expect(refusalCode(await t.host.ownerAct({ account: t.owner, primaryType: 'FreezeAgent', message: act }))).toBe('wallet_not_loaded')
    await t.payOk(t.b)
    expect(refusalCode(await t.host.call({ type: 'dropWallet', wallet: W.wallet }))).toBe('wallet_not_loaded')

    // B loads W's final blob (no tail: the drop sealed everything) and spends the rest of the cap, not more.
    const loaded = await b.call({ type: 'loadWallet', wallet: W.wallet, blob: final.blob, entries: [] })
    expect(loaded.ok, JSON.stringify(loaded)).toBe(true)
    expect(loaded.ok && loaded.result).toMatchObject({ wallet: W.wallet, version: final.version, walletSeq: dropEntry.walletSeq! + 1, replayed: 0 })
    // The load's answer seals a core naming W and W's blob at a new version: a restart of B finds it.
    expect(loaded.persist?.sealed?.wallets?.find((w) => w.wallet === W.wallet)?.version).toBeGreaterThan(final.version)
    while (spent.a + spent.b + AMOUNT <= CAP) {
      const r = await b.agentSign(t.pay(W))
      expect(r.ok, JSON.stringify(r.ok || r.error)).toBe(true)
      spent.b += AMOUNT
    }
    const over = await b.agentSign(t.pay(W))
    expect(refusalCode(over)).toBe('policy_daily_cap_exceeded')
    expect(spent.a + spent.b).toBe(CAP)
    expect(spent.b).toBeGreaterThan(0n)
    expect(refusalCode(await b.agentSign(t.pay(t.b)))).toBe('wallet_not_found') // B holds only W

    // W's thread: 1..k in A's chain (ending with wallet_dropped), k+1.. in B's chain (wallet_loaded first), by walletPrev.
    const thread = [...walletEntries(t.host.entries, W.wallet), ...walletEntries(b.entries, W.wallet)].map(parse)
    expect(thread.map((e) => e.walletSeq)).toEqual(thread.map((_, i) => i + 1))
    for (let i = 1; i < thread.length; i++) expect(thread[i]!.walletPrev).toBe(hashAuditEntry(thread[i - 1]!))
    const k = thread.findIndex((e) => e.event === 'wallet_dropped')
    expect(thread[k + 1]).toMatchObject({ event: 'wallet_loaded' })
  })

  it('loading a wallet the enclave already holds → wallet_already_loaded', async () => {
    expect(refusalCode(await b.call({ type: 'loadWallet', wallet: W.wallet, blob: final.blob, entries: [] }))).toBe('wallet_already_loaded')
    const other = walletEntries(t.host.entries, t.b.wallet)
    expect(other.length).toBeGreaterThan(0)
    expect(refusalCode(await t.host.call({ type: 'loadWallet', wallet: t.b.wallet, blob: final.blob, entries: [] }))).toBe('wallet_already_loaded')
  })

  it('FORK RESIDUAL: A loads W again while B holds it; both sign up to the budget left at the fork; the thread shows the fork', async () => {
    // Re-spend B's budget view first: B is at the cap. Move one payment's worth of headroom? No: the fork is bounded by
    // what each holder believes is left. A's view (its final blob) has CAP - spent.a left.
    const r = await t.host.call({ type: 'loadWallet', wallet: W.wallet, blob: final.blob, entries: [] })
    expect(r.ok, JSON.stringify(r)).toBe(true) // the residual: A cannot know B holds W
    let forked = 0n
    for (;;) {
      const p = await t.host.agentSign(t.pay(W))
      if (!p.ok) {
        expect(refusalCode(p)).toBe('policy_daily_cap_exceeded')
        break
      }
      forked += AMOUNT
    }
    // Over the cap by exactly what A believed was left at the fork (B had spent it already): the bound.
    expect(forked).toBe(CAP - spent.a)
    expect(spent.a + spent.b + forked).toBe(CAP + (CAP - spent.a))
    // Detection: W's thread has two successors of A's wallet_dropped entry, one in each chain.
    const fromA = walletEntries(t.host.entries, W.wallet).map(parse)
    const fromB = walletEntries(b.entries, W.wallet).map(parse)
    const drop = fromA.find((e) => e.event === 'wallet_dropped')!
    const successors = [...fromA, ...fromB].filter((e) => e.walletPrev === hashAuditEntry(drop))
    expect(successors.map((e) => e.event)).toEqual(['wallet_loaded', 'wallet_loaded'])
    expect(successors[0]!.walletSeq).toBe(successors[1]!.walletSeq)
  })
})
