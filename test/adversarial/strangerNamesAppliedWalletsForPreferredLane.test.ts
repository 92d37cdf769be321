import { randomBytes } from 'node:crypto'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { describe, expect, it } from 'vitest'
import { relayOwnerAct } from '../../host/enclave/relayOwnerAct.js'
import { signOwnerAct } from '../../shared/owner/signOwnerAct.js'

/** Wallets with an act applied through this host (their addresses are public: every payment names one). */
const WALLETS = 300

/**
 * Attack (stranger, rt38b on rt38's preferred lanes): rt38 let acts naming a wallet that an act applied to through this
 * host skip the others' bound (≤ 32 in flight), reasoning that a stranger only gets there with wallets he owns. But the
 * lane comes from the unsigned body: a stranger naming other people's wallets (their addresses are public) with junk
 * signatures ran in the preferred lanes, one per wallet, up to 256 at once, and an owner's act sent after such a flood
 * on 300 wallets waited behind ~300 of them. Now an act runs preferred only if its signer is one whose act applied to
 * that wallet through this host (recovered here; the signer still checks everything): the flood is bounded by the others'
 * 32 and the owner's act overtakes it. The signer and governance are stand-ins that answer after a tick (the order of
 * the host's queue is what is attacked; strangerFloodsRelayWithMadeUpWallets drives the real stack): counts, no timings.
 */
describe('attack: a stranger names wallets that had acts applied, to ride the preferred lanes', () => {
  it(`an owner's act sent after junk acts naming ${WALLETS} applied wallets lands ahead of most of them`, async () => {
    const tick = () => new Promise((r) => setTimeout(r, 1))
    let completed = 0
        const call = (async (msg: { type: string; message: string; signature: string }) => {
      await tick()
      // The signer: an act with a junk signature is refused; an owner's applies (a FreezeAgent needs no governance here).
      if (msg.signature.startsWith('0x1111')) return { ok: false, error: { code: 'owner_signature_invalid', message: 'no' } }
      return { ok: true, result: { wallet: (JSON.parse(msg.message) as { wallet: string }).wallet } }
    }) as never
    const owners = await Promise.all(Array.from({ length: WALLETS }, async () => ({ account: privateKeyToAccount(generatePrivateKey()), wallet: `0x${randomBytes(20).toString('hex')}` as `0x${string}` })))
    const freeze = (o: (typeof owners)[number], seq: number) =>
      signOwnerAct({ account: o.account, primaryType: 'FreezeAgent', message: { wallet: o.wallet, agentId: `agt_${'ab'.repeat(20)}`, frozen: true, seq: String(seq) } })
    // Each owner's first act through this host applies: its wallet's lane is now preferred.
    const firsts = await Promise.all(owners.map((o) => freeze(o, 1)))
    expect((await Promise.all(firsts.map((b) => relayOwnerAct(call, null, b)))).every((r) => r.ok)).toBe(true)

    const honest = await freeze(owners[0]!, 2)
    // Not the owner's own wallet (a lane runs its acts in turn: that wallet's queue is scope38's): the other 299.
    const junk = owners.slice(1).flatMap((o) => [0, 1].map(() => ({ primaryType: 'FreezeAgent', message: JSON.stringify({ wallet: o.wallet, agentId: `agt_${'cd'.repeat(20)}`, frozen: true, seq: '9' }), signature: `0x${'11'.repeat(65)}` })))
    const flood = junk.map(async (b) => {
      const r = await relayOwnerAct(call, null, b)
      completed++
      return r
    })
    const owner = relayOwnerAct(call, null, honest).then((r) => ({ r, ahead: completed }))
    const [{ r, ahead }, floodAnswers] = await Promise.all([owner, Promise.all(flood)])
    console.log(`owner act landed after ${ahead} of ${junk.length} junk acts`)
    expect(floodAnswers.every((a) => !a.ok)).toBe(true)
    expect(r.ok, JSON.stringify(r)).toBe(true)
    // Before: ~300 (one running per preferred lane, 256 at once, the rest ahead of it in the queue). Now: those the
    // others' bound let in (≤ 32) and those finishing while its own tick ran.
    expect(ahead).toBeLessThan(100)
  }, 30_000)
})
