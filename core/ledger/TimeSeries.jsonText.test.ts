import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { TimeSeries } from './TimeSeries.js'

/**
 * Issue 18: toJSONText (cached chunks of JSON text, what a seal writes) is byte for byte JSON.stringify(toJSON())
 * (the uncached encoding) after any sequence of mutations interleaved with seals: appends, same-millisecond merges,
 * out-of-order inserts (clock moved back, an owner credit dated earlier), prunes, keepLast (counters), coalescing,
 * and the compaction those trigger. A cache that kept a chunk a mutation touched fails here.
 */
type Op =
  | { op: 'run'; count: number; step: number; amount: bigint }
  | { op: 'same'; amount: bigint }
  | { op: 'back'; by: number; amount: bigint }
  | { op: 'prune'; frac: number }
  | { op: 'keepLast'; n: number }
  | { op: 'coalesce'; frac: number; bucket: number }
  | { op: 'seal' }

const amount = fc.bigInt({ min: -5n, max: 10n ** 20n })
const mutation: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('run' as const), count: fc.integer({ min: 1, max: 400 }), step: fc.constantFrom(2, 40, 700, 5_000), amount }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('same' as const), amount }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('back' as const), by: fc.integer({ min: 0, max: 2_000_000 }), amount }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('prune' as const), frac: fc.integer({ min: 0, max: 110 }).map((x) => x / 100) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('keepLast' as const), n: fc.integer({ min: 0, max: 900 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('coalesce' as const), frac: fc.integer({ min: 0, max: 110 }).map((x) => x / 100), bucket: fc.constantFrom(10, 100, 1_000, 60_000) }) },
)
/** Each mutation is followed by a seal most of the time, so that most mutations find cached chunks to invalidate. */
const ops = fc.array(fc.tuple(mutation, fc.boolean(), fc.boolean()), { minLength: 1, maxLength: 30 }).map((xs) =>
  xs.flatMap(([m, a, b]): Op[] => (a || b ? [m, { op: 'seal' }] : [m])),
)

function run(ops: Op[], check: (s: TimeSeries) => void): void {
  const s = new TimeSeries()
  let now = 1_764_000_000_000
  const span = () => {
    const j = s.toJSON()
    return j.length ? { first: j[0]![0], last: j[j.length - 1]![0] } : { first: now, last: now }
  }
  for (const o of ops) {
    switch (o.op) {
      case 'run':
        for (let k = 0; k < o.count; k++) s.add((now += 1 + ((k * 7919) % o.step)), o.amount + BigInt(k))
        break
      case 'same':
        s.add(now, o.amount)
        break
      case 'back':
        s.add(now - o.by, o.amount)
        break
      case 'prune': {
        const { first, last } = span()
        s.prune(Math.floor(first + (last - first) * o.frac))
        break
      }
      case 'keepLast':
        s.keepLast(o.n)
        break
      case 'coalesce': {
        const j = s.toJSON() // up to the entry at that fraction of the series
        s.coalesce(j.length ? j[Math.min(j.length - 1, Math.floor(j.length * o.frac))]![0] : now, o.bucket)
        break
      }
      case 'seal':
        check(s)
    }
  }
  check(s)
}

describe('TimeSeries.toJSONText', () => {
  it('is JSON.stringify(toJSON()) after any mix of spends, merges, back-dated entries, prunes, coalescing and seals', () => {
    fc.assert(
      fc.property(ops, (list) => {
        run(list, (s) => {
          const text = s.toJSONText()
          expect(text).toBe(JSON.stringify(s.toJSON()))
          expect(JSON.parse(text)).toEqual(s.toJSON())
        })
      }),
      { numRuns: 300 },
    )
  })

  it('re-encodes a touched chunk: a merge into, an insert before and a prune through cached entries', () => {
    const s = new TimeSeries()
    for (let t = 1; t <= 1_000; t++) s.add(t * 10, 1n)
    expect(s.toJSONText()).toBe(JSON.stringify(s.toJSON())) // every full chunk cached now
    s.add(10_000, 5n) // merges into the newest entry
    expect(s.toJSONText()).toBe(JSON.stringify(s.toJSON()))
    s.add(15, 7n) // back-dated: every later index moves
    expect(s.toJSONText()).toBe(JSON.stringify(s.toJSON()))
    s.prune(3_333) // through the middle of a chunk
    expect(s.toJSONText()).toBe(JSON.stringify(s.toJSON()))
    s.coalesce(8_000, 1_000) // merges a prefix, moves the rest
    expect(s.toJSONText()).toBe(JSON.stringify(s.toJSON()))
    s.keepLast(10) // compacts
    expect(s.toJSONText()).toBe(JSON.stringify(s.toJSON()))
  })

  it('coalescing keeps the cached buckets it does not change, and re-encodes the first one it does (a same-ms entry merged in)', () => {
    const s = new TimeSeries()
    for (let t = 1; t <= 200; t++) s.add(t * 1_000, 1n) // already on 1 s bucket ends: coalescing leaves them as they are
    expect(s.toJSONText()).toBe(JSON.stringify(s.toJSON())) // chunks [0, 64), [64, 128), [128, 192) cached
    s.add(64_000, 5n) // clock moved back to the 64th entry's millisecond: inserted after it, at index 64 (a chunk edge)
    s.coalesce(300_000, 1_000) // merges the two 64,000 entries: index 63 keeps its time, its amount becomes 6
    expect(s.toJSONText()).toBe(JSON.stringify(s.toJSON()))
    expect(s.toJSON()[63]).toEqual([64_000, '6'])
  })

  it('moves cached chunks with their entries when a prune compacts the arrays or coalescing shortens the prefix', () => {
    const s = new TimeSeries()
    for (let t = 1; t <= 1_000; t++) s.add(t * 10, BigInt(t))
    expect(s.toJSONText()).toBe(JSON.stringify(s.toJSON()))
    s.prune(6_000) // drops 600 of 1,000 entries: compacts, the cached chunks after it move down
    expect(s.toJSONText()).toBe(JSON.stringify(s.toJSON()))
    for (let t = 1_001; t <= 2_000; t++) s.add(t * 10, BigInt(t))
    expect(s.toJSONText()).toBe(JSON.stringify(s.toJSON()))
    s.coalesce(12_000, 1_000) // ~600 entries merge into ~60 buckets; the cached chunks after 12,000 move down
    expect(s.toJSONText()).toBe(JSON.stringify(s.toJSON()))
    s.add(20_000, 1n)
    expect(s.toJSONText()).toBe(JSON.stringify(s.toJSON()))
  })
})
