import { describe, expect, it } from 'vitest'
import { lyingPaymentsHost as lyingHost } from '../helpers/lyingPaymentsHost.js'
import { readAgentPayments } from '../../agent/agentRead.js'
import { generateAgentKey } from '../../agent/generateAgentKey.js'

const WALLET = '0x00000000000000000000000000000000000000aa' as const

const codeOf = (p: Promise<unknown>) => p.then(() => 'resolved', (e: { code?: string; name?: string }) => e.code ?? `untyped ${e.name}`)

/**
 * Attack (rt41): the SDK's payment history appended each page with `entries.push(...page.entries)`: one argument per
 * entry. A lying host answers one page of 500,000 empty entries (~1.5 MB of JSON) and the spread throws V8's
 * `RangeError: Maximum call stack size exceeded`, an untyped error (no code) out of readAgentPayments. Safe behaviour:
 * a page is taken only up to what is still wanted (at most 100 entries), whatever its length; the honest page is
 * unchanged. And a `maxPages` of NaN (a misread setting, e.g. Number(process.env.X)) made the page bound never trip
 * (`pages >= NaN` is false): a host creeping its cursor was followed without end; now `request_invalid`, no read made.
 */
describe('adversarial: a host floods an agent\'s payments page (rt41)', () => {
  it('one page of 500,000 entries: the first `limit` of them, no untyped RangeError', async () => {
    const flood = Array.from({ length: 500_000 }, (_, i) => ({ i }))
    const host = await lyingHost(() => ({ entries: flood, next: 7 }))
    try {
      const r = await readAgentPayments({ host: host.url, agentKey: generateAgentKey(), wallet: WALLET, limit: 10 })
      expect(r.entries).toEqual(flood.slice(0, 10))
      expect(host.reads()).toBe(1)
    } finally {
      host.close()
    }
  })

  it('maxPages NaN: request_invalid before any read; honest: a whole number still bounds', async () => {
    // The host stops creeping after 300 reads (so a missing bound ends, and the test says how many reads it made).
    const host = await lyingHost((before) => ({ entries: [], next: host.reads() >= 300 ? null : (before ?? 2 ** 53) - 1 }))
    try {
      const read = (maxPages: number) => codeOf(readAgentPayments({ host: host.url, agentKey: generateAgentKey(), wallet: WALLET, limit: 10, maxPages }))
      expect(await read(Number.NaN)).toBe('request_invalid')
      expect(host.reads()).toBe(0)
      expect(await read(3)).toBe('payments_page_limit')
      expect(host.reads()).toBe(3)
    } finally {
      host.close()
    }
  })

  // rt42: a `limit` of NaN reached the request schema's parse as NaN: an untyped ZodError (the Python SDK: ValueError).
  it('limit NaN: request_invalid before any read (typed); honest: a whole number still reads', async () => {
    const host = await lyingHost(() => ({ entries: [{ i: 1 }], next: null }))
    try {
      const read = (limit: number) => codeOf(readAgentPayments({ host: host.url, agentKey: generateAgentKey(), wallet: WALLET, limit }))
      expect(await read(Number.NaN)).toBe('request_invalid')
      expect(host.reads()).toBe(0)
      expect(await readAgentPayments({ host: host.url, agentKey: generateAgentKey(), wallet: WALLET, limit: 5 })).toMatchObject({ entries: [{ i: 1 }] })
      expect(host.reads()).toBe(1)
    } finally {
      host.close()
    }
  })
})
