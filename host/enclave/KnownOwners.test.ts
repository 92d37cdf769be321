import { randomBytes } from 'node:crypto'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { describe, expect, it } from 'vitest'
import { signOwnerAct } from '../../shared/owner/signOwnerAct.js'
import { KnownOwners, type OwnedWallet } from './KnownOwners.js'

const owner = privateKeyToAccount(generatePrivateKey())
const coOwner = privateKeyToAccount(generatePrivateKey())
const stranger = privateKeyToAccount(generatePrivateKey())
const wallet = `0x${'ab'.repeat(20)}` as const
const other = `0x${'cd'.repeat(20)}` as const
const lc = (a: string) => a.toLowerCase()
const freeze = (account = owner, w: `0x${string}` = wallet) =>
  signOwnerAct({ account, primaryType: 'FreezeAgent', message: { wallet: w, agentId: `agt_${'cd'.repeat(20)}`, frozen: true, seq: '1' } })
const create = (account = owner, named: `0x${string}` = account.address) =>
  signOwnerAct({ account, primaryType: 'CreateWallet', message: { owner: named, label: 'w', nonce: `0x${randomBytes(32).toString('hex')}`, issuedAt: String(Date.now()), auditChain: `0x${'00'.repeat(32)}` } })
const onWallet = { wallet, owner: '' }
const newBy = (a: string) => ({ wallet: '', owner: lc(a) })

/** A source whose reads the test answers by hand, counting them. */
function source(initial: readonly OwnedWallet[] | null) {
  let epoch = 0
  let reads = 0
  let answer: readonly OwnedWallet[] | null = initial
  const pending: Array<() => void> = []
  return {
    src: { epoch: () => epoch, read: () => (reads++, new Promise<readonly OwnedWallet[] | null>((r) => pending.push(() => r(answer)))) },
    reconnect: () => epoch++,
    answer: (a: readonly OwnedWallet[] | null) => (answer = a),
    release: () => pending.splice(0).forEach((f) => f()),
    reads: () => reads,
  }
}

describe('KnownOwners (lanes39): who owns which wallet, reseeded from the enclave at each connection', () => {
  it("a restarted host knows the enclave's owners before its first act is placed: one read, shared by the acts waiting for it", async () => {
    const s = source([{ address: wallet.toUpperCase().replace('0X', '0x'), governance: { owners: [owner.address, coOwner.address] } }])
    const k = new KnownOwners(s.src)
    const placed: Array<string | null> = []
    const acts = [freeze(owner), freeze(coOwner), freeze(stranger)].map(async (a) => placed.push(await k.ready().then(async () => k.prefers(await a, onWallet))))
    await new Promise((r) => setTimeout(r, 20))
    expect(placed).toEqual([]) // none placed before the owners are read
    s.release()
    await Promise.all(acts)
    expect(placed.sort()).toEqual([lc(owner.address), lc(coOwner.address), null].sort())
    expect(s.reads()).toBe(1)
    await k.ready()
    expect(s.reads()).toBe(1) // same connection: not read again
  })

  it('a new connection reseeds (a removed owner forgotten, a new one known); a failed read is tried again by the next act', async () => {
    const s = source([{ address: wallet, governance: { owners: [owner.address] } }])
    const k = new KnownOwners(s.src)
    const first = k.ready()
    s.release()
    await first
    expect(await k.prefers(await freeze(owner), onWallet)).toBe(lc(owner.address))
    s.reconnect()
    s.answer(null) // the enclave not ready yet
    const failed = k.ready()
    s.release()
    await failed
    expect(await k.prefers(await freeze(owner), onWallet)).toBe(lc(owner.address)) // a failed read keeps what was known
    s.answer([{ address: wallet, governance: { owners: [coOwner.address] } }])
    const again = k.ready()
    s.release()
    await again
    expect(s.reads()).toBe(3)
    expect(await k.prefers(await freeze(owner), onWallet)).toBe(null)
    expect(await k.prefers(await freeze(coOwner), onWallet)).toBe(lc(coOwner.address))
  })

  it("a new wallet's act is preferred only when signed by the owner it names and that key owns a wallet here", async () => {
    const k = new KnownOwners()
    k.seed([{ address: wallet, governance: { owners: [owner.address] } }])
    expect(await k.prefers(await create(owner), newBy(owner.address))).toBe(lc(owner.address))
    expect(await k.prefers(await create(stranger), newBy(stranger.address))).toBe(null) // owns nothing here
    // A stranger naming the owner (his signature does not recover to it), or a forged signature.
    const named = await create(stranger, owner.address)
    expect(await k.prefers(named, newBy(owner.address))).toBe(null)
    expect(await k.prefers({ ...(await create(owner)), signature: `0x${'11'.repeat(65)}` }, newBy(owner.address))).toBe(null)
    // Not a new wallet's act: a FreezeAgent on a wallet the signer does not own is not preferred for owning another.
    expect(await k.prefers(await freeze(owner, other), { wallet: other, owner: lc(owner.address) })).toBe(null)
  })

  it("applied acts add their signer; an applied SetOwners' owners replace the wallet's; bounded per wallet", async () => {
    const k = new KnownOwners()
    k.add(other, stranger.address)
    expect(await k.prefers(await freeze(stranger, other), { wallet: other, owner: '' })).toBe(lc(stranger.address))
    expect(await k.prefers(await create(stranger), newBy(stranger.address))).toBe(lc(stranger.address))
    k.set(other, [coOwner.address])
    expect(await k.prefers(await freeze(stranger, other), { wallet: other, owner: '' })).toBe(null)
    expect(await k.prefers(await create(stranger), newBy(stranger.address))).toBe(null) // owns no wallet here any more
    for (let i = 0; i < 30; i++) k.add(other, privateKeyToAccount(generatePrivateKey()).address)
    expect(await k.prefers(await freeze(coOwner, other), { wallet: other, owner: '' })).toBe(null) // the oldest of 21 went
  })
})

describe('KnownOwners (rt39): replays are not preferred', () => {
  const act = (seq: string) => signOwnerAct({ account: owner, primaryType: 'FreezeAgent', message: { wallet, agentId: `agt_${'cd'.repeat(20)}`, frozen: true, seq } })
  it("an act at or below the wallet's owner sequence is a stranger's; a wallet made anew (imported back) starts again", async () => {
    const k = new KnownOwners()
    k.seed([{ address: wallet, ownerSeq: 5, governance: { owners: [owner.address] } }])
    expect(await k.prefers(await act('5'), onWallet)).toBeNull()
    expect(await k.prefers(await act('6'), onWallet)).toBe(lc(owner.address))
    k.applied(wallet, 3) // an older answer never lowers it
    expect(await k.prefers(await act('5'), onWallet)).toBeNull()
    k.applied(wallet, 0, true) // exported, then imported back: ownerSeq 0
    expect(await k.prefers(await act('1'), onWallet)).toBe(lc(owner.address))
  })

  it("a new wallet's act applied here, or outside the enclave's 10-minute window, is a stranger's", async () => {
    const k = new KnownOwners()
    k.seed([{ address: wallet, governance: { owners: [owner.address] } }])
    const fresh = await create()
    expect(await k.prefers(fresh, newBy(owner.address))).toBe(lc(owner.address))
    const m = JSON.parse(fresh.message) as { nonce: string; issuedAt: string }
    k.created(m.nonce, Number(m.issuedAt))
    expect(await k.prefers({ ...fresh }, newBy(owner.address))).toBeNull()
    const old = await signOwnerAct({ account: owner, primaryType: 'CreateWallet', message: { owner: owner.address, label: 'w', nonce: `0x${'12'.repeat(32)}`, issuedAt: String(Date.now() - 11 * 60_000), auditChain: `0x${'00'.repeat(32)}` } })
    expect(await k.prefers(old, newBy(owner.address))).toBeNull()
  })
})
