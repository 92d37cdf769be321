import { decode, encode } from 'cborg'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { RecentIds } from './RecentIds.js'
import { probeIds } from './recentIdsProbe.js'
import { concat, encodeWithRaw } from '../state/encodeWithRaw.js'

/**
 * Issue 18: a wallet's seal takes its agents' request ids (sealed grouped per agent) from per-(agent, second) buckets whose CBOR is cached. After
 * any sequence of admissions (late ones included), raised times (a load, a replayed entry), entries logged and
 * re-logged, expiry and seals, the cached encoding is byte for byte `encode()` of the uncached list (and a wallet blob
 * spliced from it is byte for byte the plain `encode()` of the blob), every wallet's list holds exactly its agents'
 * ids, the core's share (`unsealed`) is exactly what the scan over every id chose before (issue 18, ids18), and expiry
 * never forgets an id before the cutoff.
 */
type Op =
  | { op: 'admit'; agent: number; nonce: string; offset: number }
  | { op: 'raise'; pick: number; by: number }
  | { op: 'log'; pick: number; wallet: number; upper: boolean }
  | { op: 'tick'; by: number }
  | { op: 'seal'; changed: number[]; from: number; sealedAt: number[] }

const AGENTS = ['ag0', 'ag1', 'ag:2', 'agé3', 'ag4']
const WALLETS = ['0xaa', '0xbb', '0xcc']
/** rss18b: 32-hex nonces (every agent request's) are held in compact form; a small pool so that resends collide. */
const HEX_NONCE = fc.constantFrom('00', 'ff', '7f80', 'a5').chain((p) => fc.nat(7).map((i) => `${p}${i}`.padEnd(32, String(i)).slice(0, 32)))
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ op: fc.constant('admit' as const), agent: fc.nat(AGENTS.length - 1), nonce: fc.oneof(fc.string({ maxLength: 40 }), fc.string({ maxLength: 12, unit: 'binary' }), HEX_NONCE, HEX_NONCE, HEX_NONCE.map((n) => n.toUpperCase()), HEX_NONCE.map((n) => n.slice(1))), offset: fc.oneof(fc.integer({ min: -30_000, max: 2_000 }), fc.integer({ min: -2_000, max: 0 })) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('raise' as const), pick: fc.integer({ min: 0, max: 10_000 }), by: fc.integer({ min: 1, max: 4_000 }) }) },
  { weight: 6, arbitrary: fc.record({ op: fc.constant('log' as const), pick: fc.integer({ min: 0, max: 10_000 }), wallet: fc.nat(WALLETS.length - 1), upper: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('tick' as const), by: fc.integer({ min: 0, max: 4_000 }) }) },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('seal' as const),
      changed: fc.subarray([0, 1, 2]),
      from: fc.integer({ min: -1, max: 80 }),
      sealedAt: fc.array(fc.integer({ min: -1, max: 80 }), { minLength: 3, maxLength: 3 }),
    }),
  },
)

/** The wallets' agents (ag4 belongs to none: its ids only ever go to the core). */
const agentsOf = (w: number) => [[AGENTS[0]!, AGENTS[1]!], [AGENTS[2]!], [AGENTS[3]!]][w]!
const agentOf = (key: string) => key.slice(0, key.lastIndexOf(':'))

function run(ops: Op[], corrupt?: (ids: RecentIds) => void): void {
  const ids = new RecentIds()
  let now = 1_764_000_000_123
  let seq = 0
  const keys: string[] = []
  let cutoff = -Infinity
  for (const o of ops) {
    if (o.op === 'admit') {
      const key = `${AGENTS[o.agent]}:${o.nonce}`
      if (probeIds(ids).has(key) || now + o.offset < cutoff) continue
      ids.add(key, now + o.offset)
      keys.push(key)
    } else if (o.op === 'raise' || o.op === 'log') {
      const live = keys.filter((k) => probeIds(ids).has(k))
      const key = live[o.pick % Math.max(1, live.length)]
      if (key === undefined) continue
      if (o.op === 'raise') ids.add(key, ids.timeOf(key)! + o.by)
      else ids.log(key, [++seq, o.upper ? WALLETS[o.wallet]!.toUpperCase() : WALLETS[o.wallet]!])
    } else if (o.op === 'tick') {
      now += o.by
      const before = new Map(ids)
      cutoff = now - 32_000
      ids.expire(cutoff)
      for (const [k, t] of before) {
        if (t >= cutoff) expect(probeIds(ids).has(k)).toBe(true) // never forgotten before the cutoff
        if (Math.floor(t / 1000) * 1000 + 999 < cutoff) expect(probeIds(ids).has(k)).toBe(false) // nor kept a whole second past it
      }
    } else {
      corrupt?.(ids)
      const skip = new Set(o.changed.flatMap(agentsOf))
      for (const w of o.changed) {
        const list = ids.listFor(agentsOf(w))
        const flat = list.flatMap(([a, xs]) => xs.map(([n, t]): [string, number] => [`${a}:${n}`, t]))
        expect(list.every(([a, xs]) => agentsOf(w).includes(a) && xs.length > 0)).toBe(true)
        expect(new Set(flat.map(([k]) => k))).toEqual(new Set([...ids].map(([k]) => k).filter((k) => agentsOf(w).includes(agentOf(k)))))
        for (const [k, t] of flat) expect(ids.timeOf(k)).toBe(t)
        const cached = ids.encodedFor(agentsOf(w))
        expect(cached.count).toBe(flat.length)
        expect(Buffer.from(cached.cbor).toString('hex')).toBe(Buffer.from(encode(list)).toString('hex'))
        const blob = { v: 1, coreId: new Uint8Array(16).fill(w), version: seq, auditSeq: seq - 1, wallet: { address: WALLETS[w], ledger: '{}', n: [1, -2, 3.5] } }
        expect(Buffer.from(concat(encodeWithRaw({ ...blob, replay: [] }, { replay: cached.cbor }))).equals(Buffer.from(encode({ ...blob, replay: list })))).toBe(true)
      }
      const sealedAt = (v: string) => o.sealedAt[WALLETS.indexOf(v)] ?? -1
      // The scan the seal made before issue 18's index: every id, its agent outside the sealed wallets, not given back.
      const expected = [...ids].filter(([k]) => {
        if (skip.has(agentOf(k))) return false
        const [q, v] = probeIds(ids).entryOf(k) ?? [Number.NaN, '']
        return !(q > o.from || q <= sealedAt(v.toLowerCase()))
      })
      const got = ids.unsealed(skip, o.from, sealedAt)
      expect(got.length).toBe(new Set(got.map(([k]) => k)).size)
      expect(new Map(got)).toEqual(new Map(expected))
    }
  }
}

describe('RecentIds: per-agent buckets with cached CBOR', () => {
  const ops = fc.array(op, { minLength: 20, maxLength: 160, size: 'max' })

  it('cached encoding = encode(uncached list); lists, core share and expiry as the full scan', () => {
    fc.assert(fc.property(ops, (o) => run(o)), { numRuns: 300 })
  })

  it('the check fails on a stale cached bucket (a deliberately broken cache)', () => {
    const ids = new RecentIds()
    const t = 1_764_000_000_000
    ids.add('ag0:a', t)
    ids.encodedFor(['ag0'])
    ids.add('ag0:a', t + 1) // a raised time must re-encode the bucket
    const fresh = ids.encodedFor(['ag0'])
    expect(Buffer.from(fresh.cbor).equals(Buffer.from(encode([['ag0', [['a', t + 1]]]])))).toBe(true)
    // Break the cache on purpose (a tuple of another time): the property above must notice.
    const broken = (x: RecentIds) => {
      for (const a of (x as unknown as { agents: Map<string, { buckets: Map<number, { cbor: Uint8Array; n: number }> }> }).agents.values())
        for (const b of a.buckets.values()) if (b.n > 0) b.cbor = encode(['ag0:x', 1])
    }
    const seq: Op[] = [
      { op: 'admit', agent: 0, nonce: 'n1', offset: 0 },
      { op: 'seal', changed: [0], from: 0, sealedAt: [-1, -1, -1] },
      { op: 'seal', changed: [0], from: 0, sealedAt: [-1, -1, -1] },
    ]
    expect(() => run(seq)).not.toThrow()
    expect(() => run(seq, broken)).toThrow()
  })

  it('a large id count and times past 2^32 encode as cborg does (heads of 1, 2, 3, 5 and 9 bytes)', () => {
    const ids = new RecentIds()
    const t = 1_764_000_000_000
    for (let i = 0; i < 70_000; i++) ids.add(`ag0:${i}`, t + (i % 3_000))
    for (const at of [0, 23, 24, 255, 256, 65_535, 65_536, 2 ** 32 - 1, 2 ** 32, Number.MAX_SAFE_INTEGER]) ids.add(`ag1:${at}`, at)
    for (const agents of [['ag0'], ['ag1'], ['ag1', 'ag0']]) {
      expect(Buffer.from(ids.encodedFor(agents).cbor).equals(Buffer.from(encode(ids.listFor(agents))))).toBe(true)
    }
    // Over the per-seal bound: the newest ids only.
    const capped = ids.encodedFor(['ag1', 'ag0'], 1_000)
    expect(capped.count).toBe(1_000)
    const kept = (decode(capped.cbor) as Array<[string, Array<[string, number]>]>).flatMap(([, xs]) => xs.map(([, t]) => t))
    expect(kept).toHaveLength(1_000)
    expect(Math.min(...kept)).toBeGreaterThanOrEqual(Math.max(...[...ids].map(([, t]) => t).sort((p, q) => q - p).slice(0, 1_000).slice(-1)))
  })

  it('rss18b: compact keys keep agents apart past 256 agents (the index is two bytes) and give the key back exactly', () => {
    const ids = new RecentIds()
    const nonce = '0123456789abcdef0123456789abcdef'
    const t = 1_764_000_000_000
    for (let i = 0; i < 600; i += 2) ids.add(`agt_${i}:${nonce}`, t + i)
    for (let i = 0; i < 600; i++) expect(probeIds(ids).has(`agt_${i}:${nonce}`)).toBe(i % 2 === 0)
    expect(probeIds(ids).has(`agt_0:${nonce.toUpperCase()}`)).toBe(false)
    // The admission check: a known key is refused and keeps its time; a new one is recorded.
    expect(ids.add(`agt_0:${nonce}`, t + 9, true)).toBe(false)
    expect(ids.timeOf(`agt_0:${nonce}`)).toBe(t)
    expect(ids.add(`agt_0:${nonce.slice(0, 31)}0`, t, true)).toBe(nonce.slice(0, 31) + '0' !== nonce)
    ids.log(`agt_2:${nonce}`, [7, '0xAB'])
    expect(probeIds(ids).entryOf(`agt_2:${nonce}`)).toEqual([7, '0xab'])
    expect(probeIds(ids).entryOf(`agt_4:${nonce}`)).toBeUndefined()
    expect([...ids].slice(0, 2)).toEqual([[`agt_0:${nonce}`, t], [`agt_2:${nonce}`, t + 2]])
    ids.expire(t + 1_000)
    expect(probeIds(ids).size).toBe(0)
    for (let i = 1; i < 600; i += 2) ids.add(`agt_${i}:${nonce}`, t + 5_000)
    for (let i = 0; i < 600; i++) expect(probeIds(ids).has(`agt_${i}:${nonce}`)).toBe(i % 2 === 1)
  })
})
