import { randomBytes } from 'node:crypto'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { describe, expect, it } from 'vitest'
import { ownerActSigner } from '../../host/enclave/ownerActSigner.js'
import { RelayLanes, relayOwnerAct } from '../../host/enclave/relayOwnerAct.js'
import { signOwnerAct } from '../../shared/owner/signOwnerAct.js'

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
    const log: string[] = []
    const gates: Array<() => void> = []
    let applyFirst = true
    const call = (async (msg: { type: string; message: string }) => {
      const m = JSON.parse(msg.message) as { wallet?: string; label?: string }
      log.push(m.label ?? m.wallet!)
      // The owner's first CreateWallet applies (to its one wallet here, for the test); everything after is held.
      if (m.label === 'applied' && applyFirst) return (applyFirst = false), { ok: true, result: { wallet, ownerSeq: 0 } }
      await new Promise<void>((r) => gates.push(r))
      return { ok: false, error: { code: 'owner_act_replayed', message: 'held then refused' } }
    }) as never
    const until = async (what: () => boolean) => {
      for (const end = Date.now() + 20_000; !what() && Date.now() < end; ) await new Promise((r) => setTimeout(r, 5))
      return what()
    }
    const junk = (i: number) => ({ primaryType: 'FreezeAgent', message: JSON.stringify({ wallet: `0x${i.toString(16).padStart(40, '0')}`, agentId: `agt_${'ab'.repeat(20)}`, frozen: true, seq: '1' }), signature: `0x${'11'.repeat(65)}` })

    const applied = await create('applied')
    expect((await relayOwnerAct(call, null, applied, undefined, lanes)).ok).toBe(true)
    const flood = Array.from({ length: 40 }, (_, i) => relayOwnerAct(call, null, junk(i), undefined, lanes))
    expect(await until(() => log.length === 1 + 32)).toBe(true)
    // The stranger's copy of the applied act: before, it claimed the owner's wallet and ran preferred (held here).
    const copy = { ...applied }
    const replay = relayOwnerAct(call, null, copy, undefined, lanes)
    await ownerActSigner(copy) // the relay's own recovery (one per body): the copy is placed a few ticks later
    await new Promise((r) => setTimeout(r, 50))
    const next = await create('next')
    const mine = relayOwnerAct(call, null, next, undefined, lanes)
    // Nothing released: the owner's CreateWallet runs while the flood's 32 are held (before: behind 8 queued junk acts).
    expect(await until(() => log.includes('next'))).toBe(true)
    expect(log.filter((l) => l.startsWith('0x'))).toHaveLength(32)
    let done = false
    const all = Promise.all([...flood, replay, mine]).then(() => (done = true))
    while (!done) {
      gates.splice(0).forEach((g) => g())
      await new Promise((r) => setTimeout(r, 1))
    }
    await all
    expect(log).toHaveLength(1 + 40 + 2)
  })
})
