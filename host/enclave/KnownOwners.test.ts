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

/** A source whose reads the test answers by hand, counting them; `clock`: the fake time KnownOwners reads (owners40). */
function source(initial: readonly OwnedWallet[] | null) {
  let epoch = 0
  let reads = 0
  let answer: readonly OwnedWallet[] | null = initial
  const pending: Array<() => void> = []
  const clock = { ms: Date.now() } // moved by hand only; starts at the wall clock (a new wallet's act is dated by it)
  return {
    src: { epoch: () => epoch, read: () => (reads++, new Promise<readonly OwnedWallet[] | null>((r) => pending.push(() => r(answer)))) },
    reconnect: () => epoch++,
    answer: (a: readonly OwnedWallet[] | null) => (answer = a),
    release: () => pending.splice(0).forEach((f) => f()),
    reads: () => reads,
    pending: () => pending.length,
    clock,
    now: () => clock.ms,
  }
}

describe('KnownOwners (lanes39): who owns which wallet, reseeded from the enclave at each connection', () => {
  it("a restarted host knows the enclave's owners before its first act is placed: one read, shared by the acts waiting for it", async () => {
    const s = source([{ address: wallet.toUpperCase().replace('0X', '0x'), governance: { owners: [owner.address, coOwner.address] } }])
    const k = new KnownOwners(s.src, { now: s.now })
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
    const k = new KnownOwners(s.src, { now: s.now })
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

describe('KnownOwners (owners40): the one owner cache, read again when older than a second', () => {
  const wallets = (...owners: string[]) => [{ address: wallet, governance: { owners } }]
  const read = async (s: ReturnType<typeof source>, k: KnownOwners) => {
    const r = k.ready()
    s.release()
    await r
  }

  it('an owner added or removed by an act that did not go through this relay is seen once the view is older than 1 s', async () => {
    const s = source(wallets(owner.address))
    const k = new KnownOwners(s.src, { now: s.now })
    await read(s, k)
    k.add(wallet, stranger.address) // learnt here: an act of this key applied through this relay
    expect(await k.prefers(await freeze(stranger), onWallet)).toBe(lc(stranger.address))
    // Another host on the enclave applies SetOwners [coOwner]: the stranger and the owner removed, the co-owner added.
    s.answer(wallets(coOwner.address))
    s.clock.ms += 1_000
    await k.ready() // exactly 1 s: still fresh, not read
    expect(s.reads()).toBe(1)
    expect(await k.prefers(await freeze(stranger), onWallet)).toBe(lc(stranger.address))
    s.clock.ms += 1
    await read(s, k)
    expect(s.reads()).toBe(2)
    expect(await k.prefers(await freeze(stranger), onWallet)).toBeNull()
    expect(await k.prefers(await freeze(owner), onWallet)).toBeNull()
    expect(await k.prefers(await freeze(coOwner), onWallet)).toBe(lc(coOwner.address))
    // Nor does a removed owner's key, owning no wallet here any more, run its CreateWallet preferred.
    expect(await k.prefers(await create(owner), newBy(owner.address))).toBeNull()
    expect(await k.prefers(await create(coOwner), newBy(coOwner.address))).toBe(lc(coOwner.address))
  })

  it("what the enclave says of a wallet (ex-scope38 signedByOwner's cases): any owner's act, never a stranger's, a forgery, another message or wallet", async () => {
    const s = source([{ address: wallet.toUpperCase().replace('0X', '0x'), governance: { owners: [owner.address, coOwner.address] } }])
    const k = new KnownOwners(s.src, { now: s.now })
    await read(s, k)
    const check = async (b: Awaited<ReturnType<typeof freeze>>, named = onWallet) => (await k.ready(), k.prefers(b, named))
    expect(await check(await freeze(owner))).toBe(lc(owner.address))
    expect(await check(await freeze(coOwner))).toBe(lc(coOwner.address))
    expect(await check(await freeze(stranger))).toBeNull()
    const signed = await freeze(owner)
    expect(await check({ ...signed, message: JSON.stringify({ ...JSON.parse(signed.message), seq: '2' }) })).toBeNull() // another message
    expect(await check({ ...signed, signature: `0x${'11'.repeat(65)}` })).toBeNull()
    expect(await check({ ...signed, message: '{' })).toBeNull()
    expect(await check({ ...signed, primaryType: 'NoSuchAct' as 'FreezeAgent' })).toBeNull()
    expect(await check(await freeze(owner, other), { wallet: other, owner: '' })).toBeNull() // a wallet it does not know
    expect(s.reads()).toBe(1) // read once per second, not per act
  })

  it("one read in flight, shared; one that fails or does not answer in waitMs lets the acts through on what is known, and the next act reads again", async () => {
    const s = source(null)
    const k = new KnownOwners(s.src, { now: s.now, waitMs: 50 })
    // A read that never answers: every act waiting for it is let through (none stalls), one read only.
    const waiting = [k.ready(), k.ready(), k.ready()]
    expect(s.reads()).toBe(1)
    await Promise.all(waiting)
    expect(await k.prefers(await freeze(owner), onWallet)).toBeNull() // nothing known: the others' pool
    // rt40: its late answer is still the enclave's view when it was sent: taken when it comes (was: ignored, so an
    // enclave slower than waitMs at every read never changed the view again: slowOwnerReadsKeepRemovedOwnerPreferred).
    s.answer(wallets(owner.address))
    s.release()
    await new Promise((r) => setImmediate(r))
    expect(await k.prefers(await freeze(owner), onWallet)).toBe(lc(owner.address))
    expect(s.reads()).toBe(1)
    // A read that fails (the enclave refuses or is away): what was known stays, and the next act reads again.
    const failing = new KnownOwners({ epoch: () => 0, read: async () => Promise.reject(new Error('enclave_unavailable')) }, { waitMs: 50 })
    failing.add(wallet, owner.address)
    await failing.ready()
    expect(await failing.prefers(await freeze(owner), onWallet)).toBe(lc(owner.address))
  })

  it("a connection's first read is waited for longer (firstWaitMs) than a refresh (waitMs): a slow enclave after a restart still seeds the owners", async () => {
    const s = source(wallets(owner.address))
    const k = new KnownOwners(s.src, { now: s.now, waitMs: 20, firstWaitMs: 60_000 })
    const first = k.ready()
    await new Promise((r) => setTimeout(r, 100)) // past waitMs, far from firstWaitMs: still waiting for the first read
    s.release()
    await first
    expect(await k.prefers(await freeze(owner), onWallet)).toBe(lc(owner.address))
    // A refresh that does not answer gives up after waitMs (the owners known stay).
    s.clock.ms += 1_001
    await k.ready()
    expect(s.reads()).toBe(2)
    expect(await k.prefers(await freeze(owner), onWallet)).toBe(lc(owner.address))
  })

  it('what applied here while a read was in flight is kept over that read (its view may predate it)', async () => {
    const s = source(wallets(owner.address))
    const k = new KnownOwners(s.src, { now: s.now })
    await read(s, k)
    s.clock.ms += 1_001
    const r = k.ready() // the enclave answers with its view from before the SetOwners below
    k.set(wallet, [coOwner.address]) // a SetOwners applied through this relay meanwhile
    k.applied(wallet, 7)
    s.release()
    await r
    expect(await k.prefers(await freeze(owner), onWallet)).toBeNull()
    const act = (seq: string) => signOwnerAct({ account: coOwner, primaryType: 'FreezeAgent', message: { wallet, agentId: `agt_${'cd'.repeat(20)}`, frozen: true, seq } })
    expect(await k.prefers(await act('7'), onWallet)).toBeNull()
    expect(await k.prefers(await act('8'), onWallet)).toBe(lc(coOwner.address))
  })
})
