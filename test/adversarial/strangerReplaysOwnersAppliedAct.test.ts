import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { describe, expect, it } from 'vitest'
import { LANE_WAITING, RelayLanes, relayOwnerAct } from '../../host/enclave/relayOwnerAct.js'
import { signOwnerAct } from '../../shared/owner/signOwnerAct.js'
import { heldRelaySigner } from '../helpers/heldRelaySigner.js'

/**
 * Attack (stranger holding one act an owner signed earlier, e.g. seen on its way, or an old co-owner's copy): the
 * relay's lanes hand a wallet to acts signed by one of its owners first (scope38, rt38b, lanes39), and hold at most
 * LANE_WAITING of them waiting. A replay of an owner's applied act is validly signed by that owner, so it was an owner's
 * act to the queue: copies of it filled the wallet's owners' queue and the owner's next act was refused
 * owner_act_queue_full (and, sent as the queue moved, waited behind up to 16 replays that the signer refuses as stale).
 * rt39: an act whose seq is at or below the wallet's owner sequence (as read from the enclave or applied here) is not
 * preferred (KnownOwners: owners40 made it the relay's one owner cache; scope38's signedByOwner had the rule too).
 *
 * In process (RelayLanes with a signer that holds each act until released): exact order, no timing in the assertions.
 */
describe("adversarial: a stranger replays an owner's applied act to fill the owners' queue of its wallet", () => {
  it("the owner's next act waits ahead of the replays and runs first, not owner_act_queue_full", async () => {
    const owner = privateKeyToAccount(generatePrivateKey())
    const wallet = `0x${'ee'.repeat(20)}` as const
    const agentId = `agt_${'ab'.repeat(20)}`
    // The enclave's view: the owner's act with seq 1 applied (ownerSeq 1); the next act carries seq 2.
    const view = async () => [{ address: wallet, ownerSeq: 1, governance: { owners: [owner.address] } }]
    const lanes = new RelayLanes({ epoch: () => 0, read: view })
    const h = heldRelaySigner((m) => `seq ${(JSON.parse(m.message) as { seq: string }).seq} ${m.signature.slice(0, 6)}`)

    const applied = await signOwnerAct({ account: owner, primaryType: 'FreezeAgent', message: { wallet, agentId, frozen: true, seq: '1' } })
    // A stranger's act holds the wallet's lane; then LANE_WAITING replays of the applied act queue behind it.
    const holder = relayOwnerAct(h.call, null, { primaryType: 'FreezeAgent', message: JSON.stringify({ wallet, agentId, frozen: false, seq: '2' }), signature: `0x${'11'.repeat(65)}` }, lanes)
    expect(await h.until(() => h.log.length === 1)).toBe(true)
    const copies = Array.from({ length: LANE_WAITING }, () => ({ ...applied }))
    const replays = copies.map((c) => relayOwnerAct(h.call, null, c, lanes))
    await h.placed(...copies)

    const fresh = await signOwnerAct({ account: owner, primaryType: 'FreezeAgent', message: { wallet, agentId, frozen: true, seq: '2' } })
    let answered: unknown = null
    const mine = relayOwnerAct(h.call, null, fresh, lanes).then((r) => (answered = r))
    await h.placed(fresh)
    // Before: the replays were owners' acts, the owners' queue was full and this answer was already owner_act_queue_full.
    expect(answered).toBeNull()
    h.release() // the stranger's act on the wallet finishes: the owner's act is next, ahead of every replay
    expect(await h.until(() => h.log.length === 2)).toBe(true)
    expect(h.log[1]).toBe(`seq 2 ${fresh.signature.slice(0, 6)}`)
    await h.releaseAll([holder, mine, ...replays])
    expect(h.log).toHaveLength(2 + LANE_WAITING)
  })
})
