import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { TimeSeries } from '../../core/ledger/TimeSeries.js'

/**
 * Red team rt30b (rss18): core/ledger/TimeSeries keeps amounts and running sums as JS numbers while a bound on them is
 * a safe integer. The ledger decides caps from these sums, so one unit of rounding is a cap exceeded. This drives the
 * series with adversarial sequences (amounts at 2^53 - 1, 2^53, 2^53 + 1, 9007199254740993, negatives/credits, many
 * small amounts whose sum crosses 2^53, compactions and coalescing right at the switch) against a BigInt-only model
 * with the same merge/prune/coalesce semantics, comparing every sum, size, JSON and JSON text after every step.
 */
class Model {
  xs: [number, bigint][] = []
  add(at: number, a: bigint) {
    const n = this.xs.length
    if (n > 0 && this.xs[n - 1]![0] === at) this.xs[n - 1]![1] += a
    else if (n === 0 || at > this.xs[n - 1]![0]) this.xs.push([at, a])
    else this.xs.splice(this.ub(at), 0, [at, a])
  }
  ub(t: number) {
    let i = 0
    while (i < this.xs.length && this.xs[i]![0] <= t) i++
    return i
  }
  sumAfter(t: number) {
    return this.xs.filter(([at]) => at > t).reduce((s, [, a]) => s + a, 0n)
  }
  prune(t: number) {
    this.xs = this.xs.slice(this.ub(t))
  }
  keepLast(n: number) {
    if (this.xs.length > n) this.xs = this.xs.slice(this.xs.length - n)
  }
  coalesce(before: number, ms: number) {
    const edge = Math.floor(before / ms) * ms
    const end = this.ub(edge)
    if (end < 2) return
    const out: [number, bigint][] = []
    for (const [t, a] of this.xs.slice(0, end)) {
      const b = Math.ceil(t / ms) * ms
      if (out.length > 0 && out[out.length - 1]![0] === b) out[out.length - 1]![1] += a
      else out.push([b, a])
    }
    if (out.length === end) return // nothing merged: the series leaves the entries where they are (exact, as main)
    this.xs = [...out, ...this.xs.slice(end)]
  }
}

const MAX = BigInt(Number.MAX_SAFE_INTEGER)
const P53 = 2n ** 53n
const edgeAmounts = [MAX, P53, P53 + 1n, 9007199254740993n, -MAX, -P53, -(P53 + 1n), MAX - 1n, 1n, -1n, 0n, MAX / 2n, MAX / 2n + 1n, MAX / 3n]
const amount = fc.oneof(
  { weight: 5, arbitrary: fc.bigInt({ min: -5n, max: 5n }) },
  { weight: 3, arbitrary: fc.constantFrom(...edgeAmounts) },
  { weight: 2, arbitrary: fc.bigInt({ min: MAX / 64n - 3n, max: MAX / 64n + 3n }) },
  { weight: 1, arbitrary: fc.bigInt({ min: -(10n ** 25n), max: 10n ** 25n }) },
)
const op = fc.oneof(
  { weight: 8, arbitrary: fc.record({ op: fc.constant('add' as const), t: fc.integer({ min: 0, max: 400 }), a: amount }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('addNext' as const), a: amount }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('prune' as const), t: fc.integer({ min: 0, max: 400 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('keep' as const), n: fc.integer({ min: 0, max: 80 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('coalesce' as const), t: fc.integer({ min: 0, max: 400 }), ms: fc.constantFrom(1, 7, 60, 1000) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('reload' as const) }) },
)

function check(s: TimeSeries, m: Model, probes: number[]) {
  for (const p of probes) expect(s.sumAfter(p)).toBe(m.sumAfter(p))
  expect(s.size).toBe(m.xs.length)
  const json = JSON.stringify(m.xs.map(([t, a]) => [t, a.toString()]))
  expect(JSON.stringify(s.toJSON())).toBe(json)
  expect(s.toJSONText()).toBe(json)
}

describe('ledger sums across the number → BigInt switch (rss18)', () => {
  it('every sum equals a BigInt-only model on adversarial sequences (adds, credits, prunes, keepLast, coalesce, reload)', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 400 }), fc.array(fc.integer({ min: -1, max: 401 }), { minLength: 1, maxLength: 6 }), (ops, probes) => {
        let s = new TimeSeries()
        const m = new Model()
        let next = 0
        for (const o of ops) {
          if (o.op === 'add') (s.add(o.t, o.a), m.add(o.t, o.a))
          else if (o.op === 'addNext') (s.add(next, o.a), m.add(next, o.a), (next = (next + 1) % 401))
          else if (o.op === 'prune') (s.prune(o.t), m.prune(o.t))
          else if (o.op === 'keep') (s.keepLast(o.n), m.keepLast(o.n))
          else if (o.op === 'coalesce') (s.coalesce(o.t, o.ms), m.coalesce(o.t, o.ms))
          else {
            // A reload re-adds the entries in order, so equal times inserted out of order merge (as the model's re-add).
            s = TimeSeries.fromJSON(JSON.parse(s.toJSONText()))
            const xs = m.xs
            m.xs = []
            for (const [t, a] of xs) m.add(t, a)
          }
          check(s, m, probes)
        }
      }),
      { numRuns: Number(process.env.RT30B_RUNS ?? 300) },
    )
  })

  it('many small spends whose total crosses 2^53, with compactions on the way, stay exact to the unit', () => {
    const s = new TimeSeries()
    const m = new Model()
    const chunk = MAX / 100n + 7n // ~100 of these cross 2^53
    for (let i = 0; i < 300; i++) {
      s.add(i, chunk)
      m.add(i, chunk)
      if (i % 3 === 0) (s.add(i, -1n), m.add(i, -1n)) // a credit merged in the same millisecond
      if (i % 90 === 89) (s.prune(i - 20), m.prune(i - 20)) // drops > 64 entries: compacts right around the switch
      for (const p of [-1, i - 1, i - 50, Math.floor(i / 2)]) expect(s.sumAfter(p)).toBe(m.sumAfter(p))
    }
    check(s, m, [-1, 100, 250, 299])
  })

  it('a cap check one unit above 2^53 is not rounded away (9007199254740993 vs 9007199254740992)', () => {
    const s = new TimeSeries()
    s.add(1, MAX) // exactly safe
    s.add(2, 1n) // 2^53
    s.add(3, 1n) // 2^53 + 1 — a double would say 2^53
    expect(s.sumAfter(0)).toBe(9007199254740993n)
    expect(s.sumAfter(0) > 9007199254740992n).toBe(true)
    const t = new TimeSeries()
    t.add(1, 9007199254740993n) // a single amount that no double holds
    t.add(2, -9007199254740992n)
    expect(t.sumAfter(0)).toBe(1n)
    expect(t.sumAfter(1)).toBe(-9007199254740992n)
  })

  it('a large credit followed by spends: the bound counts |credit| (no cancellation hides a rounding)', () => {
    const s = new TimeSeries()
    const m = new Model()
    const seq: [number, bigint][] = [[1, -MAX], [2, MAX], [3, 3n], [3, MAX], [4, -MAX], [5, 1n]]
    for (const [t, a] of seq) (s.add(t, a), m.add(t, a))
    check(s, m, [-1, 0, 1, 2, 3, 4, 5])
  })
})
