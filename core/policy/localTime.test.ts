import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { parsePolicy } from '../../shared/schemas/policy.js'
import { localTime } from './localTime.js'

// Issue 18 (mem35): 'UTC' is computed without Intl (no ICU data pages). 'Etc/UTC' is the same zone through
// Intl.DateTimeFormat, so every fact must match it exactly — and an independent reading of the instant too.
const END = 253402300800000 // 10000-01-01T00:00:00Z: the arithmetic path stops before it
const DAY = 86_400_000

describe('localTime in UTC without Intl', () => {
  it('gives the same date, weekday, minute and day start as Intl for random instants', () => {
    fc.assert(
      fc.property(fc.oneof(fc.integer({ min: 0, max: END - 1 }), fc.integer({ min: 1_700_000_000_000, max: 1_900_000_000_000 })), (t) => {
        expect(localTime(t, 'UTC')).toEqual(localTime(t, 'Etc/UTC'))
      }),
      { numRuns: 2000 },
    )
  })

  it('matches at edges: the epoch, day and year ends, leap days, the last instant before year 10000', () => {
    const edges = [0, 1, DAY - 1, DAY, Date.UTC(2024, 1, 29, 23, 59, 59, 999), Date.UTC(2024, 2, 1), Date.UTC(2026, 11, 31, 23, 59), Date.UTC(2100, 1, 28, 12), END - 1]
    for (const t of edges) expect(localTime(t, 'UTC'), new Date(t).toISOString()).toEqual(localTime(t, 'Etc/UTC'))
  })

  it('reads the instant as an independent decoder does', () => {
    const t = Date.UTC(2026, 11, 2, 23, 45, 30)
    expect(localTime(t, 'UTC')).toEqual({ date: '2026-12-02', weekday: 'wed', minuteOfDay: 23 * 60 + 45, dayStart: Date.UTC(2026, 11, 2) })
  })

  it('falls back to Intl outside 1970-9999 (same answers as the alias)', () => {
    for (const t of [-1, -DAY - 5, END, END + DAY]) expect(localTime(t, 'UTC')).toEqual(localTime(t, 'Etc/UTC'))
  })

  it('builds no Intl formatter for a UTC policy: parsing it, its local time (the memory claim)', () => {
    const Real = Intl.DateTimeFormat
    let built = 0
    Intl.DateTimeFormat = class extends Real {
      constructor(...a: ConstructorParameters<typeof Real>) {
        super(...a)
        built++
      }
    } as typeof Real
    try {
      const wallet = `0x${'11'.repeat(20)}`, agentId = `agt_${'ab'.repeat(20)}`
      const tokens = [{ chainId: 84532, asset: `0x${'22'.repeat(20)}`, name: 'USDC', version: '2', decimals: 6 }]
      parsePolicy({ version: 1, wallet, agentId, timeZone: 'UTC', tokens, budgets: [], rules: [] })
      localTime(Date.UTC(2026, 11, 3, 0, 15), 'UTC')
      expect(built).toBe(0)
      // the counter sees a formatter when one is built (a zone no other file uses: the unit project shares one module
      // instance per worker, isolate: false, so a zone another file read is cached already)
      localTime(Date.UTC(2026, 11, 3, 0, 15), 'Pacific/Chatham')
      expect(built).toBe(1)
    } finally {
      Intl.DateTimeFormat = Real
    }
  })
})
