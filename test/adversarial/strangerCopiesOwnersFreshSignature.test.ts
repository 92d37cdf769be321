import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { describe, expect, it } from 'vitest'
import { LANE_WAITING, RelayLanes, relayOwnerAct } from '../../host/enclave/relayOwnerAct.js'
import { signOwnerAct } from '../../shared/owner/signOwnerAct.js'
import { heldRelaySigner } from '../helpers/heldRelaySigner.js'

/**
 * Attack (stranger holding a fresh signature of one owner, e.g. the first signature of a two-owner proposal): a
 * wallet's lane holds at most LANE_WAITING owners' acts waiting, and a copy of an owner's act whose seq is still the
 * next one is an owner's act (the seq check of strangerReplaysOwnersAppliedAct does not apply: nothing applied yet).
 * Copies filled the owners' queue and the co-owner's signature of the same act was refused owner_act_queue_full.
 * rt39: one place in the owners' queue per signer and act; further copies wait with the others.
 *
 * In process (RelayLanes with a signer that holds each act until released): exact order, no timing in the assertions.
 */
describe("adversarial: a stranger copies an owner's fresh signature to fill the owners' queue of its wallet", () => {
  it("the co-owner's signature of the same act is queued right behind one copy, not owner_act_queue_full", async () => {
    const [a, b] = [privateKeyToAccount(generatePrivateKey()), privateKeyToAccount(generatePrivateKey())]
    const wallet = `0x${'ee'.repeat(20)}` as const
    const agentId = `agt_${'ab'.repeat(20)}`
    const view = async () => [{ address: wallet, ownerSeq: 1, governance: { owners: [a.address, b.address] } }]
    const lanes = new RelayLanes({ epoch: () => 0, read: view })
    const h = heldRelaySigner((m) => m.signature)
    const message = { wallet, agentId, frozen: true, seq: '2' } as const
    const byA = await signOwnerAct({ account: a, primaryType: 'FreezeAgent', message })
    const byB = await signOwnerAct({ account: b, primaryType: 'FreezeAgent', message })
    const holder = relayOwnerAct(h.call, null, { primaryType: 'FreezeAgent', message: JSON.stringify({ ...message, frozen: false }), signature: `0x${'11'.repeat(65)}` }, lanes)
    expect(await h.until(() => h.log.length === 1)).toBe(true)
    const copies = Array.from({ length: LANE_WAITING + 1 }, () => ({ ...byA }))
    const replays = copies.map((c) => relayOwnerAct(h.call, null, c, lanes))
    await h.placed(...copies)
    let answered: unknown = null
    const mine = relayOwnerAct(h.call, null, byB, lanes).then((r) => (answered = r))
    await h.placed(byB)
    // Before: LANE_WAITING copies filled the owners' queue and this answer was already owner_act_queue_full.
    expect(answered).toBeNull()
    h.release() // the holder finishes: one copy of A's signature runs, then B's, ahead of the other copies
    expect(await h.until(() => h.log.length === 2)).toBe(true)
    expect(h.log[1]).toBe(byA.signature)
    h.release()
    expect(await h.until(() => h.log.length === 3)).toBe(true)
    expect(h.log[2]).toBe(byB.signature)
    await h.releaseAll([holder, mine, ...replays])
    // One copy waited in the owners' queue, the other LANE_WAITING with the others: every act ran.
    expect(h.log).toHaveLength(1 + copies.length + 1)
  })
})
