import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { TimeSeries } from './TimeSeries.js'

/** Brute-force reference: the definition of the sums, independent of prefix sums and binary search. */
const ref = (xs: [number, bigint][], t: number) => xs.filter(([at]) => at > t).reduce((s, [, a]) => s + a, 0n)

describe('TimeSeries', () => {
  it('sums exactly at window edges (strictly after t)', () => {
    const s = new TimeSeries()
    s.add(1000, 5n)
    s.add(2000, 7n)
    s.add(2000, 1n) // same millisecond merges
    expect(s.sumAfter(999)).toBe(13n)
    expect(s.sumAfter(1000)).toBe(8n)
    expect(s.sumAfter(1999)).toBe(8n)
    expect(s.sumAfter(2000)).toBe(0n)
    expect(s.size).toBe(2)
  })

  // Issue 18: a series keeps numbers while every sum is a safe integer and BigInts once one could not be: amounts
  // small (counters, stablecoins), near 2^53 (the switch mid-sequence, after merges and prunes) and beyond it.
  const MAX = BigInt(Number.MAX_SAFE_INTEGER)
  const amounts = fc.oneof(
    { weight: 6, arbitrary: fc.bigInt({ min: -3n, max: 1_000n }) },
    { weight: 1, arbitrary: fc.bigInt({ min: MAX / 4n - 10n, max: MAX / 4n + 10n }) },
    { weight: 1, arbitrary: fc.bigInt({ min: -MAX - 2n, max: -MAX + 2n }) },
    { weight: 1, arbitrary: fc.bigInt({ min: 0n, max: 10n ** 30n }) },
  )

  it('matches a brute-force reference for random adds (in and out of order), prunes and keepLast', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.record({ op: fc.constant('add' as const), t: fc.integer({ min: 0, max: 500 }), a: amounts }),
            fc.record({ op: fc.constant('prune' as const), t: fc.integer({ min: 0, max: 500 }) }),
            fc.record({ op: fc.constant('keep' as const), n: fc.integer({ min: 1, max: 50 }) }),
          ),
          { maxLength: 300 },
        ),
        fc.array(fc.integer({ min: -1, max: 501 }), { minLength: 1, maxLength: 10 }),
        (ops, probes) => {
          const s = new TimeSeries()
          let xs: [number, bigint][] = []
          for (const o of ops) {
            if (o.op === 'add') {
              s.add(o.t, o.a)
              xs.push([o.t, o.a])
              xs.sort((x, y) => x[0] - y[0])
            } else if (o.op === 'prune') {
              s.prune(o.t)
              xs = xs.filter(([at]) => at > o.t)
            } else {
              s.keepLast(o.n)
              // keepLast counts merged (same-ms) entries as one: mirror that by distinct times.
              const times = [...new Set(xs.map(([t]) => t))]
              const keep = new Set(times.slice(Math.max(0, times.length - o.n)))
              xs = xs.filter(([t]) => keep.has(t))
            }
            for (const p of probes) expect(s.sumAfter(p)).toBe(ref(xs, p))
          }
          const back = TimeSeries.fromJSON(JSON.parse(JSON.stringify(s.toJSON())))
          for (const p of probes) expect(back.sumAfter(p)).toBe(ref(xs, p))
        },
      ),
      { numRuns: 200 },
    )
  })

  it('stays exact across the switch from numbers to BigInts: sums on either side of 2^53', () => {
    const s = new TimeSeries()
    const big = 2n ** 53n - 1n // the largest safe integer: still a number
    s.add(1, big)
    expect(s.sumAfter(0)).toBe(big)
    s.add(2, 1n) // the running sum would be 2^53: the columns become BigInts first
    s.add(2, 1n) // merged in the same millisecond: 2^53 + 1, which no double holds
    s.add(3, -5n)
    expect(s.sumAfter(0)).toBe(big - 3n)
    expect(s.sumAfter(1)).toBe(-3n)
    expect(s.sumAfter(2)).toBe(-5n)
    expect(JSON.stringify(s.toJSON())).toBe(`[[1,"${big}"],[2,"2"],[3,"-5"]]`)
    expect(s.toJSONText()).toBe(JSON.stringify(s.toJSON()))
    // A counter's running count stays a number however long it runs (keepLast compacts it back to its live entries).
    const c = new TimeSeries()
    for (let i = 0; i < 5_000; i++) {
      c.add(i, 1n)
      c.keepLast(100)
    }
    expect(c.sumAfter(-1)).toBe(100n)
    expect(c.sumAfter(4_949)).toBe(50n)
    // After a compaction the bound is what the live entries add up to: large ones kept count in full.
    const q = MAX / 4n
    const k = new TimeSeries()
    for (let i = 0; i < 70; i++) k.add(i, 1n)
    for (let i = 0; i < 3; i++) k.add(100 + i, q)
    k.keepLast(3) // drops 70 entries: compacts
    k.add(200, q)
    k.add(201, q + 3n)
    k.add(201, 1n)
    expect(k.sumAfter(-1)).toBe(5n * q + 4n)
    expect(k.sumAfter(102)).toBe(2n * q + 4n)
  })

  it('keepLast keeps counter decisions exact: a saturated counter still reports at least the limit', () => {
    const s = new TimeSeries()
    for (let i = 0; i < 100; i++) s.add(i, 1n)
    s.keepLast(10)
    expect(s.sumAfter(-1)).toBe(10n) // ≥ limit 10 → still denies
    expect(s.sumAfter(94)).toBe(5n) // inside the kept range: exact
  })
})
