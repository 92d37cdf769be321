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

  it('matches a brute-force reference for random adds (in and out of order), prunes and keepLast', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.record({ op: fc.constant('add' as const), t: fc.integer({ min: 0, max: 500 }), a: fc.bigInt({ min: 0n, max: 10n ** 30n }) }),
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

  it('keepLast keeps counter decisions exact: a saturated counter still reports at least the limit', () => {
    const s = new TimeSeries()
    for (let i = 0; i < 100; i++) s.add(i, 1n)
    s.keepLast(10)
    expect(s.sumAfter(-1)).toBe(10n) // ≥ limit 10 → still denies
    expect(s.sumAfter(94)).toBe(5n) // inside the kept range: exact
  })
})
