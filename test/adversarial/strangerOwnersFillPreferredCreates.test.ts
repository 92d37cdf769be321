import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { describe, expect, it } from 'vitest'
import { RelayLanes, relayOwnerAct } from '../../host/enclave/relayOwnerAct.js'
import { signOwnerAct } from '../../shared/owner/signOwnerAct.js'
import { heldRelaySigner, junkAct } from '../helpers/heldRelaySigner.js'

/**
 * Attack (stranger, against lanes39): a CreateWallet/ImportWallet signed by the owner it names runs preferred when that
 * key owns a wallet here, 8 at once, one per key; past the 8 it waited in the strangers' FIFO. Owning a wallet is cheap
 * for a stranger (one CreateWallet, then a SetOwners naming 10 fresh keys: 10 owners), so a stranger keeping 8 of its
 * keys creating sent an owner's CreateWallet behind its whole flood of junk acts. rt39: a preferred create claims one
 * wallet its signer owns (one claim per wallet), and past the 8 waits for a preferred slot, never behind the others.
 *
 * In process (RelayLanes with a signer that holds each act until this test lets it go): what runs is what the relay let
 * in, so the order is exact; no timing in the assertions (each wait polls with a generous deadline).
 */
describe('adversarial: a stranger fills the preferred creates with keys it made owners', () => {
  const held = () => heldRelaySigner((m) => (JSON.parse(m.message) as { label?: string; wallet?: string }).label ?? (JSON.parse(m.message) as { wallet: string }).wallet)
  const create = (account: ReturnType<typeof privateKeyToAccount>, label: string) =>
    signOwnerAct({ account, primaryType: 'CreateWallet', message: { owner: account.address, label, nonce: `0x${'12'.repeat(32)}`, issuedAt: String(Date.now()), auditChain: `0x${'00'.repeat(32)}` } })
  const owner = privateKeyToAccount(generatePrivateKey())
  const victim = `0x${'ee'.repeat(20)}`
  const strangers = Array.from({ length: 10 }, () => privateKeyToAccount(generatePrivateKey()))
  const strangerWallet = (i: number) => `0x${(i + 1).toString(16).padStart(40, 'a')}`

  it("ten keys a stranger made owners of one wallet take one preferred create: the owner's runs beside them and the flood", async () => {
    const h = held()
    // The stranger's wallet lists its ten keys (a SetOwners it signed), the victim's its owner.
    const lanes = new RelayLanes({ epoch: () => 0, read: async () => [{ address: strangerWallet(0), governance: { owners: strangers.map((s) => s.address) } }, { address: victim, governance: { owners: [owner.address] } }] })
    const flood = Array.from({ length: 40 }, (_, i) => relayOwnerAct(h.call, null, junkAct(i), lanes))
    const bodies = await Promise.all(strangers.map((s, i) => create(s, `s${i}`)))
    const theirs = bodies.map((c) => relayOwnerAct(h.call, null, c, lanes))
    await h.placed(...bodies)
    const mine = relayOwnerAct(h.call, null, await create(owner, 'owner'), lanes)
    // Nothing released: the owner's create runs while the flood's 32 and the stranger's one claim are held (before:
    // 8 of the stranger's creates held the 8 preferred slots and the owner's waited behind the 8 junk acts still queued).
    expect(await h.until(() => h.log.includes('owner'))).toBe(true)
    expect(h.log.filter((l) => l.startsWith('s'))).toHaveLength(1)
    expect(h.log.filter((l) => l.startsWith('0x'))).toHaveLength(32)
    await h.releaseAll([...flood, ...theirs, mine])
    expect(h.log).toHaveLength(40 + 11)
  })

  it("eight wallets of a stranger keep the 8 preferred creates busy: the owner's create takes the first that frees, ahead of the flood", async () => {
    const h = held()
    const lanes = new RelayLanes({
      epoch: () => 0,
      read: async () => [...strangers.slice(0, 8).map((s, i) => ({ address: strangerWallet(i), governance: { owners: [s.address] } })), { address: victim, governance: { owners: [owner.address] } }],
    })
    const flood = Array.from({ length: 40 }, (_, i) => relayOwnerAct(h.call, null, junkAct(i), lanes))
    const theirs = (await Promise.all(strangers.slice(0, 8).map((s, i) => create(s, `s${i}`)))).map((c) => relayOwnerAct(h.call, null, c, lanes))
    expect(await h.until(() => h.log.filter((l) => l.startsWith('s')).length === 8)).toBe(true)
    const body = await create(owner, 'owner')
    const mine = relayOwnerAct(h.call, null, body, lanes)
    await h.placed(body)
    // One stranger create finishes; the flood's 32 stay held and 8 junk acts wait for them. The owner's create runs next.
    h.release('s0')
    expect(await h.until(() => h.log.includes('owner'))).toBe(true)
    expect(h.log.filter((l) => l.startsWith('0x'))).toHaveLength(32)
    await h.releaseAll([...flood, ...theirs, mine])
    expect(h.log).toHaveLength(40 + 9)
  })
})
