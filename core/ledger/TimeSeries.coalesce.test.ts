import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { TimeSeries } from './TimeSeries.js'

describe('TimeSeries.coalesce', () => {
  it('never lowers any "sum after t" and keeps the total; bounds the entry count', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 600_000 }), fc.bigInt({ min: 1n, max: 10n ** 9n })), { minLength: 1, maxLength: 300 }),
        fc.integer({ min: 0, max: 700_000 }),
        (entries, before) => {
          const exact = new TimeSeries()
          const merged = new TimeSeries()
          for (const [t, a] of [...entries].sort((x, y) => x[0] - y[0])) {
            exact.add(t, a)
            merged.add(t, a)
          }
          merged.coalesce(before, 60_000)
          expect(merged.sumAfter(-1)).toBe(exact.sumAfter(-1))
          for (let t = -1; t <= 700_000; t += 7_777) expect(merged.sumAfter(t) >= exact.sumAfter(t)).toBe(true)
          // Entries after the bucket edge are untouched: exact there.
          const edge = Math.floor(before / 60_000) * 60_000
          for (let t = edge; t <= 700_000; t += 5_000) expect(merged.sumAfter(t)).toBe(exact.sumAfter(t))
          // Adding after coalescing keeps working (prefix sums consistent).
          merged.add(800_000, 5n)
          exact.add(800_000, 5n)
          expect(merged.sumAfter(799_999)).toBe(5n)
          expect(merged.sumAfter(-1)).toBe(exact.sumAfter(-1))
        },
      ),
    )
  })

  it('a day of one spend per second collapses to ≤ 1,441 entries', () => {
    const s = new TimeSeries()
    for (let t = 0; t < 86_400_000; t += 1_000) s.add(t, 1n)
    s.coalesce(86_400_000 - 60_000, 60_000)
    expect(s.size).toBeLessThanOrEqual(1_441 + 60)
    expect(s.sumAfter(-1)).toBe(86_400n)
  })
})
