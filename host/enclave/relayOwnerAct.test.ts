import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { describe, expect, it } from 'vitest'
import { signOwnerAct } from '../../shared/owner/signOwnerAct.js'
import type { OwnerActBody } from '../../shared/protocol/messages.js'
import type { EnclaveClient } from './EnclaveClient.js'
import { ownerActSigner } from './ownerActSigner.js'
import { heldRelaySigner, junkAct } from '../../test/helpers/heldRelaySigner.js'
import { LANE_WAITING, RelayLanes, relayOwnerAct } from './relayOwnerAct.js'

/** A signer and a governance that answer after a tick, logging each step: what the relay interleaves. */
function fakes() {
  const log: string[] = []
  let inFlight = 0
  let most = 0
  const tick = () => new Promise((r) => setTimeout(r, 1))
  const call = (async (msg: { type: string; message: string }) => {
    const w = (JSON.parse(msg.message) as { wallet?: string; owner?: string }).wallet ?? 'create'
    if (msg.type === 'ownerAct') {
      most = Math.max(most, ++inFlight)
      log.push(`view ${w}`)
      await tick()
      return { ok: true, result: { needs: 'governance', view: new Uint8Array(1), link: new Uint8Array(1) } }
    }
    await tick()
    log.push(`decision ${w}`)
    inFlight--
    return { ok: true, result: { wallet: w } }
  }) as never
  const governance = { connected: true, call: async () => (await tick(), { ok: true, result: { decision: new Uint8Array(1) } }) } as unknown as EnclaveClient
  const act = (wallet: string) => ({ primaryType: 'FreezeAgent', message: JSON.stringify({ wallet }), signature: '0x' })
  return { log, call, governance, act, most: () => most }
}

describe('relayOwnerAct (rt37): one act per wallet at a time, a bounded number in all', () => {
  it('acts naming one wallet (any spelling) never interleave: each view is followed by its decision', async () => {
    const f = fakes()
    await Promise.all(['0xAA', '0xaa', '0xAa', '0xaA'].map((w) => relayOwnerAct(f.call, f.governance, f.act(w))))
    expect(f.log).toEqual(['0xAA', '0xaa', '0xAa', '0xaA'].flatMap((w) => [`view ${w}`, `decision ${w}`]))
  })

  it('acts naming other wallets run side by side: at most 32 at once on wallets no act applied to yet (rt38), 256 in all', async () => {
    // Real addresses and signatures: a wallet's lane is preferred for the signers whose acts applied to it (rt38b).
    const owner = privateKeyToAccount(generatePrivateKey())
    const sign = (wallet: string) =>
      signOwnerAct({ account: owner, primaryType: 'FreezeAgent', message: { wallet: wallet as `0x${string}`, agentId: `agt_${'ab'.repeat(20)}`, frozen: true, seq: '1' } })
    const wallets = Array.from({ length: 300 }, (_, i) => `0x${i.toString(16).padStart(40, '0')}`)
    const f = fakes()
    const acts = await Promise.all(wallets.map(sign))
    const answers = await Promise.all(acts.map((a) => relayOwnerAct(f.call, f.governance, a)))
    expect(answers.every((a) => a.ok)).toBe(true)
    expect(f.most()).toBe(32)
    expect(f.log.indexOf(`view ${wallets[1]}`)).toBeLessThan(f.log.indexOf(`decision ${wallets[0]}`))
    // Each of them had an act of this owner's applied: now its acts go side by side up to the limit, ahead of acts on
    // unknown wallets; another signer's acts naming them (after them in their lanes) are not preferred: rt38b's
    // test/adversarial/strangerNamesAppliedWalletsForPreferredLane.
    const g = fakes()
    const unknown = Array.from({ length: 100 }, (_, i) => `0xf${i.toString(16).padStart(39, '0')}`)
    const stranger = wallets.slice(0, 100).map((w) => ({ ...g.act(w), signature: `0x${'11'.repeat(65)}` }))
    await Promise.all([...(await Promise.all(unknown.map(sign))), ...(await Promise.all(wallets.map(sign))), ...stranger].map((a) => relayOwnerAct(g.call, g.governance, a)))
    expect(g.most()).toBe(256)
    expect(g.log.indexOf(`decision ${wallets[299]}`)).toBeLessThan(g.log.indexOf(`decision ${unknown[99]}`))
  })
})

describe('relayOwnerAct (scope38): bounded lanes, owners\' acts first', () => {
  /**
   * A signer whose ownerAct waits until released (the act running on the lane), logging which act ran. Acts are signed
   * for real (owners40: the one owner cache, KnownOwners, recovers the signer): `owner…` ones by the wallet's owner as
   * the enclave reads it, the rest by a stranger.
   */
  function gated() {
    const log: string[] = []
    const gates: Array<() => void> = []
    const owner = privateKeyToAccount(generatePrivateKey())
    const stranger = privateKeyToAccount(generatePrivateKey())
    const wallet = `0x${'aa'.repeat(20)}` as const
    const who = new Map<string, string>()
    const call = (async (msg: { type: string; signature: string }) => {
      const w = who.get(msg.signature)!
      if (msg.type === 'ownerAct') {
        log.push(w)
        await new Promise<void>((r) => gates.push(r))
        return { ok: true, result: { needs: 'governance', view: new Uint8Array(1), link: new Uint8Array(1) } }
      }
      return { ok: true, result: { who: w, wallet, ownerSeq: 0 } }
    }) as never
    const governance = { connected: true, call: async () => ({ ok: true, result: { decision: new Uint8Array(1) } }) } as unknown as EnclaveClient
    let seq = 0
    /** Signed before any is relayed: the relay sees them in the order the test sends them. */
    const acts = (...names: string[]) =>
      Promise.all(
        names.map(async (name) => {
          const message = { wallet, agentId: `agt_${'ab'.repeat(20)}`, frozen: true, seq: String(++seq) } as const
          const b = await signOwnerAct({ account: name.startsWith('owner') ? owner : stranger, primaryType: 'FreezeAgent', message })
          who.set(b.signature, name)
          return b
        }),
      )
    const lanes = () => new RelayLanes({ epoch: () => 0, read: async () => [{ address: wallet, governance: { owners: [owner.address] } }] })
    const settle = () => new Promise((r) => setTimeout(r, 5))
    /** The relay's own recovery of each act just sent (one per body), then a few ticks: they are placed. */
    const placed = async (bodies: OwnerActBody[]) => {
      await Promise.all(bodies.map((b) => ownerActSigner(b)))
      await settle()
    }
    return { log, gates, call, governance, acts, lanes, settle, placed }
  }

  it('a lane holds LANE_WAITING acts waiting; one more is owner_act_queue_full (429-style, retryAfterMs), nothing relayed', async () => {
    const g = gated()
    const lanes = g.lanes()
    const [first, ...rest] = await g.acts('first', ...Array.from({ length: LANE_WAITING }, (_, i) => `s${i}`), 'over')
    const running = relayOwnerAct(g.call, g.governance, first!, lanes)
    await g.settle()
    const queued = rest.slice(0, LANE_WAITING).map((a) => relayOwnerAct(g.call, g.governance, a, lanes))
    await g.placed(rest)
    const over = await relayOwnerAct(g.call, g.governance, rest[LANE_WAITING]!, lanes)
    expect(over).toMatchObject({ ok: false, error: { code: 'owner_act_queue_full', retryAfterMs: 1_000 } })
    expect(g.log).toEqual(['first'])
    for (let i = 0; i <= LANE_WAITING; i++) {
      g.gates.shift()!()
      await g.settle()
    }
    expect((await Promise.all([running, ...queued])).every((r) => r.ok)).toBe(true)
    expect(g.log).toEqual(['first', ...Array.from({ length: LANE_WAITING }, (_, i) => `s${i}`)])
  })

  it("an owner's act runs right after the running one, ahead of every stranger's waiting; its own queue is bounded too", async () => {
    const g = gated()
    const lanes = g.lanes()
    const [first, ...rest] = await g.acts('first', ...Array.from({ length: LANE_WAITING + 4 }, (_, i) => `s${i}`), 'owner1', 'owner2')
    const all = [relayOwnerAct(g.call, g.governance, first!, lanes)]
    await g.settle()
    for (const a of rest) all.push(relayOwnerAct(g.call, g.governance, a, lanes))
    await g.placed(rest)
    while (g.gates.length > 0) {
      g.gates.shift()!()
      await g.settle()
    }
    const answers = await Promise.all(all)
    expect(g.log.slice(0, 3)).toEqual(['first', 'owner1', 'owner2'])
    expect(answers.filter((r) => !r.ok).map((r) => !r.ok && r.error.code)).toEqual(Array(4).fill('owner_act_queue_full'))
    // The owners' queue is bounded the same way (an owner flooding a wallet of their own).
    const [running, ...owners] = await g.acts('s-running', ...Array.from({ length: LANE_WAITING }, (_, i) => `owner-${i}`), 'owner-over')
    const more = [relayOwnerAct(g.call, g.governance, running!, lanes)]
    await g.settle()
    for (const a of owners.slice(0, LANE_WAITING)) more.push(relayOwnerAct(g.call, g.governance, a, lanes))
    await g.placed(owners)
    expect(await relayOwnerAct(g.call, g.governance, owners[LANE_WAITING]!, lanes)).toMatchObject({ ok: false, error: { code: 'owner_act_queue_full' } })
    while (g.gates.length > 0) {
      g.gates.shift()!()
      await g.settle()
    }
    expect((await Promise.all(more)).every((r) => r.ok)).toBe(true)
  })
})

describe('relayOwnerAct (lanes39): owners known from the enclave at the start of a connection', () => {
  /** A signer that holds every act's view until released (what runs at once is what the relay let in), logging each. */
  function held() {
    const log: string[] = []
    const gates: Array<() => void> = []
    const call = (async (msg: { type: string; message: string }) => {
      const m = JSON.parse(msg.message) as { wallet?: string; label?: string }
      if (msg.type === 'ownerAct') {
        log.push(m.label ?? m.wallet!)
        await new Promise<void>((r) => gates.push(r))
        return { ok: false, error: { code: 'owner_signature_invalid', message: 'held then refused' } }
      }
      throw new Error('no decision expected')
    }) as never
    const until = async (what: () => boolean) => {
      for (const end = Date.now() + 10_000; !what() && Date.now() < end; ) await new Promise((r) => setTimeout(r, 5))
    }
    return { log, gates, call, until, release: () => gates.splice(0).forEach((g) => g()) }
  }
  const junk = (i: number) => ({ primaryType: 'FreezeAgent', message: JSON.stringify({ wallet: `0x${i.toString(16).padStart(40, '0')}`, agentId: `agt_${'ab'.repeat(20)}`, frozen: true, seq: '1' }), signature: `0x${'11'.repeat(65)}` })
  const owner = privateKeyToAccount(generatePrivateKey())
  const wallet = `0x${'ee'.repeat(20)}` as const
  const create = (account: typeof owner, label: string) =>
    signOwnerAct({ account, primaryType: 'CreateWallet', message: { owner: account.address, label, nonce: `0x${'12'.repeat(32)}`, issuedAt: String(Date.now()), auditChain: `0x${'00'.repeat(32)}` } })

  it("after a restart (no act applied here yet) the owner's act runs beside a stranger flood holding the others' 32, not behind it", async () => {
    const h = held()
    const lanes = new RelayLanes({ epoch: () => 0, read: async () => [{ address: wallet, governance: { owners: [owner.address] } }] })
    const flood = Array.from({ length: 100 }, (_, i) => relayOwnerAct(h.call, null, junk(i), lanes))
    const act = await signOwnerAct({ account: owner, primaryType: 'FreezeAgent', message: { wallet, agentId: `agt_${'ab'.repeat(20)}`, frozen: true, seq: '1' } })
    const mine = relayOwnerAct(h.call, null, act, lanes)
    await h.until(() => h.log.includes(wallet))
    // Exactly the others' bound ran before it; without the reseed it waits behind all 100 (none finishes while held).
    expect(h.log.indexOf(wallet)).toBe(32)
    while (h.gates.length > 0) {
      h.release()
      await new Promise((r) => setTimeout(r, 1))
    }
    await Promise.all([...flood, mine])
    expect(h.log).toHaveLength(101)
  })

  it("a CreateWallet signed by a key owning a wallet here runs preferred: one per owner at once, 8 owners' at once", async () => {
    const h = held()
    const owners = Array.from({ length: 9 }, () => privateKeyToAccount(generatePrivateKey()))
    const lanes = new RelayLanes({ epoch: () => 0, read: async () => owners.map((o, i) => ({ address: `0x${(i + 1).toString(16).padStart(40, 'a')}`, governance: { owners: [o.address] } })) })
    const flood = Array.from({ length: 40 }, (_, i) => relayOwnerAct(h.call, null, junk(i), lanes))
    const newcomer = privateKeyToAccount(generatePrivateKey())
    const creates = await Promise.all([create(owners[0]!, 'o0-second'), ...owners.map((o, i) => create(o, `o${i}`)), create(newcomer, 'newcomer')])
    // o0's first, then o0's second (same owner: waits), o1..o8 (the ninth owner past the bound), a newcomer's.
    const answers = [creates[1]!, creates[0]!, ...creates.slice(2)].map((c) => relayOwnerAct(h.call, null, c, lanes))
    await h.until(() => ['o0', 'o1', 'o2', 'o3', 'o4', 'o5', 'o6', 'o7'].every((l) => h.log.includes(l)))
    await new Promise((r) => setTimeout(r, 50)) // anything else the relay would let in now has had its turns
    expect(h.log.slice(32).sort()).toEqual(['o0', 'o1', 'o2', 'o3', 'o4', 'o5', 'o6', 'o7'])
    while (h.gates.length > 0) {
      h.release()
      await new Promise((r) => setTimeout(r, 1))
    }
    await Promise.all([...flood, ...answers])
    expect(h.log).toHaveLength(40 + 11)
    // Those not preferred waited in the others' FIFO, behind the flood (rt39: the ninth owner's waited for a preferred
    // create, test/adversarial/strangerOwnersFillPreferredCreates).
    const lastJunk = Math.max(...h.log.map((l, i) => (l.startsWith('0x') ? i : -1)))
    expect(h.log.indexOf('newcomer')).toBeGreaterThan(lastJunk)
    expect(h.log.indexOf('o0-second')).toBeGreaterThan(lastJunk)
  })
})

describe('relayOwnerAct (owners40): one owner cache orders the lane and picks the pool', () => {
  const agentId = `agt_${'ab'.repeat(20)}`
  const [w1, w2, w3] = ['e1', 'e2', 'e3'].map((b) => `0x${b.repeat(20)}` as const) as [`0x${string}`, `0x${string}`, `0x${string}`]
  const freeze = (account: ReturnType<typeof privateKeyToAccount>, wallet: `0x${string}`) => signOwnerAct({ account, primaryType: 'FreezeAgent', message: { wallet, agentId, frozen: true, seq: '1' } })
  const signer = (m: { message: string; signature: string }) => `${(JSON.parse(m.message) as { wallet: string }).wallet.slice(0, 6)} ${m.signature.slice(0, 10)}`

  it('an owner removed elsewhere (read once the view is 1 s old) waits with the others in its lane and in the pool; the new owner runs ahead in both', async () => {
    const removed = privateKeyToAccount(generatePrivateKey())
    const added = privateKeyToAccount(generatePrivateKey())
    let view = [w1, w2, w3].map((address) => ({ address, governance: { owners: [removed.address] } }))
    const clock = { ms: Date.now() }
    const lanes = new RelayLanes({ epoch: () => 0, read: async () => view }, { now: () => clock.ms })
    await lanes.known.ready()
    // Another host on the enclave applies SetOwners [added] on each wallet; a second later this host's next act reads it.
    view = [w1, w2, w3].map((address) => ({ address, governance: { owners: [added.address] } }))
    clock.ms += 1_001
    const h = heldRelaySigner(signer)
    const junk = Array.from({ length: 32 }, (_, i) => junkAct(i))
    const flood = junk.map((j) => relayOwnerAct(h.call, null, j, lanes))
    expect(await h.until(() => h.log.length === 32)).toBe(true) // the others' pool is full (32 held)
    const [byRemoved1, byAdded1, byRemoved2, byAdded3] = await Promise.all([freeze(removed, w1), freeze(added, w1), freeze(removed, w2), freeze(added, w3)])
    // w1's lane is held by a stranger's act, which waits for the others' pool (as does every act on a wallet nobody owns).
    const holder = relayOwnerAct(h.call, null, { ...junkAct(0), message: JSON.stringify({ wallet: w1, agentId, frozen: true, seq: '1' }) }, lanes)
    await h.placed()
    const mine = [byRemoved1, byAdded1, byRemoved2, byAdded3].map((b) => relayOwnerAct(h.call, null, b, lanes))
    await h.placed(byRemoved1, byAdded1, byRemoved2, byAdded3)
    // The new owner's act on w3 (an idle lane) runs beside the full others' pool; the removed owner's on w2 waits for it.
    expect(h.log.slice(32)).toEqual([signer(byAdded3)])
    h.release() // one of the flood: the others' FIFO lets in w1's holder, then the removed owner's act on w2
    expect(await h.until(() => h.log.length === 34)).toBe(true)
    await h.placed()
    expect(h.log.slice(33)).toEqual([`${w1.slice(0, 6)} 0x11111111`])
    h.release(`${w1.slice(0, 6)} 0x11111111`) // the holder ends: the new owner's act is next on w1, preferred, ahead of the removed one's
    expect(await h.until(() => h.log.includes(signer(byAdded1)))).toBe(true)
    await h.releaseAll([...flood, holder, ...mine])
    const order = h.log.slice(32)
    expect(order.indexOf(signer(byAdded1))).toBeLessThan(order.indexOf(signer(byRemoved1)))
  })

  it("a getWallets that hangs stalls no act: after waitMs they are placed on what is known (nothing: the others' pool), one read in flight", async () => {
    const owner = privateKeyToAccount(generatePrivateKey())
    let reads = 0
    const hung = new Promise<null>(() => {})
    const lanes = new RelayLanes({ epoch: () => 0, read: () => (reads++, hung) }, { waitMs: 50 })
    const h = heldRelaySigner(signer)
    const flood = Array.from({ length: 32 }, (_, i) => relayOwnerAct(h.call, null, junkAct(i), lanes))
    const act = await freeze(owner, w1)
    const mine = relayOwnerAct(h.call, null, act, lanes)
    expect(await h.until(() => h.log.length === 32)).toBe(true)
    expect(reads).toBe(1) // the 33 acts waited for one read
    await h.placed(act)
    expect(h.log).not.toContain(signer(act)) // not known: it waits in the others' FIFO behind the 32
    h.release()
    expect(await h.until(() => h.log.includes(signer(act)))).toBe(true)
    await h.releaseAll([...flood, mine])
    expect(reads).toBe(1)
    await lanes.known.ready() // the next act reads again (the hung read counted as failed)
    expect(reads).toBe(2)
  })
})
