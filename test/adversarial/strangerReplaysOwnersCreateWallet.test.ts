import { randomBytes } from 'node:crypto'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { describe, expect, it } from 'vitest'
import { RelayLanes, relayOwnerAct } from '../../host/enclave/relayOwnerAct.js'
import { signOwnerAct } from '../../shared/owner/signOwnerAct.js'
import { heldRelaySigner, junkAct } from '../helpers/heldRelaySigner.js'

/**
 * Attack (stranger holding a CreateWallet an owner signed earlier): a new wallet's act signed by the owner it names runs
 * preferred while it holds a claim on a wallet that owner owns (lanes39, rt39), and copies of an applied CreateWallet
 * are still validly signed by that owner. A stranger replaying it kept the claim busy (each copy refused by the signer
 * as a used nonce), so the owner's next CreateWallet found its wallet claimed and waited in the strangers' FIFO behind
 * a whole flood. rt39: a new wallet's act whose nonce was applied here, or whose issuedAt is outside the enclave's
 * window, is not preferred.
 *
 * In process (RelayLanes with a signer that holds each act until released): exact order, no timing in the assertions.
 */
describe("adversarial: a stranger replays an owner's applied CreateWallet to hold the owner's preferred create", () => {
  it("the owner's next CreateWallet runs beside the replay and the flood, not behind them", async () => {
    const owner = privateKeyToAccount(generatePrivateKey())
    const wallet = `0x${'ee'.repeat(20)}`
    const lanes = new RelayLanes({ epoch: () => 0, read: async () => [{ address: wallet, ownerSeq: 0, governance: { owners: [owner.address] } }] })
    const create = (label: string) =>
      signOwnerAct({ account: owner, primaryType: 'CreateWallet', message: { owner: owner.address, label, nonce: `0x${randomBytes(32).toString('hex')}`, issuedAt: String(Date.now()), auditChain: `0x${'00'.repeat(32)}` } })
    // The owner's first CreateWallet applies (to its one wallet here, for the test); everything after is held.
    let applyFirst = true
    const label = (m: { message: string }) => (JSON.parse(m.message) as { label?: string; wallet?: string }).label ?? (JSON.parse(m.message) as { wallet: string }).wallet
    const h = heldRelaySigner(label, (m) => (label(m) === 'applied' && applyFirst ? ((applyFirst = false), { ok: true, result: { wallet, ownerSeq: 0 } }) : undefined))

    const applied = await create('applied')
    expect((await relayOwnerAct(h.call, null, applied, lanes)).ok).toBe(true)
    const flood = Array.from({ length: 40 }, (_, i) => relayOwnerAct(h.call, null, junkAct(i), lanes))
    expect(await h.until(() => h.log.length === 1 + 32)).toBe(true)
    // The stranger's copy of the applied act: before, it claimed the owner's wallet and ran preferred (held here).
    const copy = { ...applied }
    const replay = relayOwnerAct(h.call, null, copy, lanes)
    await h.placed(copy)
    const mine = relayOwnerAct(h.call, null, await create('next'), lanes)
    // Nothing released: the owner's CreateWallet runs while the flood's 32 are held (before: behind 8 queued junk acts).
    expect(await h.until(() => h.log.includes('next'))).toBe(true)
    expect(h.log.filter((l) => l.startsWith('0x'))).toHaveLength(32)
    await h.releaseAll([...flood, replay, mine])
    expect(h.log).toHaveLength(1 + 40 + 2)
  })
})
