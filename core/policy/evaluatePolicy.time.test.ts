import { describe, expect, it } from 'vitest'
import type { Policy } from '../../shared/schemas/policy.js'
import { SpendLedger } from '../ledger/SpendLedger.js'
import { evaluatePolicy } from './evaluatePolicy.js'
import { MOCK_AGENT, mockDecide, mockPayment, mockPolicy } from '../../test/helpers/mockPolicy.js'

const at = (iso: string) => Date.parse(iso)
const officeHours = mockPolicy({
  timeZone: 'Europe/Berlin',
  rules: [{ id: 'office', effect: 'allow', kinds: ['eip3009'], timeWindows: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '09:00', end: '17:00' }] }],
})
const nyMorning = mockPolicy({
  timeZone: 'Europe/Berlin',
  rules: [{ id: 'ny', effect: 'allow', kinds: ['eip3009'], timeWindows: [{ days: ['sun'], start: '02:30', end: '03:30', timeZone: 'America/New_York' }] }],
})

type Row = { name: string; policy: Policy; now: number; code: string | null; over?: Parameters<typeof mockPayment>[2] }
const T = at('2026-11-24T12:00:00Z')
const s = Math.floor(T / 1000)
const rows: Row[] = [
  // Berlin is UTC+1 in November: 09:00 local = 08:00Z.
  { name: 'window: one minute before start', policy: officeHours, now: at('2026-11-24T07:59:00Z'), code: 'policy_outside_time_window' },
  { name: 'window: at start (inclusive)', policy: officeHours, now: at('2026-11-24T08:00:00Z'), code: null },
  { name: 'window: last minute before end', policy: officeHours, now: at('2026-11-24T15:59:59Z'), code: null },
  { name: 'window: at end (exclusive)', policy: officeHours, now: at('2026-11-24T16:00:00Z'), code: 'policy_outside_time_window' },
  { name: 'window: Saturday', policy: officeHours, now: at('2026-11-28T10:00:00Z'), code: 'policy_outside_time_window' },
  // Summer: UTC+2, so 09:00 local = 07:00Z.
  { name: 'window: summer time shifts the UTC start', policy: officeHours, now: at('2026-07-01T07:00:00Z'), code: null },
  // 2026-03-08 New York springs forward at 02:00 → 03:00: local 02:30 never happens, 03:00-03:30 EDT does.
  { name: 'window in its own zone on a DST day: 03:00 EDT inside', policy: nyMorning, now: at('2026-03-08T07:00:00Z'), code: null },
  { name: 'window in its own zone on a DST day: 01:59 EST outside', policy: nyMorning, now: at('2026-03-08T06:59:00Z'), code: 'policy_outside_time_window' },
  { name: 'expiry: 1 ms before', policy: mockPolicy({ expiresAt: T + 1 }), now: T, code: null },
  { name: 'expiry: at expiresAt', policy: mockPolicy({ expiresAt: T }), now: T, code: 'policy_expired' },
  { name: 'validAfter = now', policy: mockPolicy(), now: T, over: { validAfter: s }, code: null },
  { name: 'validAfter = now + 1 s', policy: mockPolicy(), now: T, over: { validAfter: s + 1 }, code: 'policy_not_yet_valid' },
  { name: 'validBefore = now', policy: mockPolicy(), now: T, over: { validBefore: s }, code: 'policy_authorization_expired' },
  {
    name: 'validity exactly at the max',
    policy: mockPolicy({ rules: [{ id: 'r', effect: 'allow', kinds: ['eip3009'], maxValiditySeconds: 600 }] }),
    now: T,
    over: { validBefore: s + 600 },
    code: null,
  },
  {
    name: 'validity one second over the max',
    policy: mockPolicy({ rules: [{ id: 'r', effect: 'allow', kinds: ['eip3009'], maxValiditySeconds: 600 }] }),
    now: T,
    over: { validBefore: s + 601 },
    code: 'policy_validity_window_too_long',
  },
  {
    name: 'validity window measured from now, with ms truncated to seconds',
    policy: mockPolicy({ rules: [{ id: 'r', effect: 'allow', kinds: ['eip3009'], maxValiditySeconds: 600 }] }),
    now: T + 999,
    over: { validBefore: s + 600 },
    code: null,
  },
]

describe('evaluatePolicy: time', () => {
  it.each(rows)('$name', (r) => {
    const v = evaluatePolicy({ policy: r.policy, action: mockPayment('1', r.now, r.over), agentId: MOCK_AGENT, ledger: new SpendLedger(), now: r.now })
    if (r.code === null) expect(v.verdict, JSON.stringify(v)).toBe('allow')
    else expect(v, JSON.stringify(v)).toMatchObject({ verdict: 'deny', code: r.code })
  })

  it('velocity: at most perMinute requests in any 60 s, denied ones included; the window slides at exactly 60 s', () => {
    const policy = mockPolicy({ velocity: { perMinute: 3 } })
    const ledger = new SpendLedger()
    const go = (now: number) => mockDecide(ledger, { policy, action: mockPayment('1', now), now })
    expect([go(T), go(T + 1), go(T + 2)].map((v) => v.verdict)).toEqual(['allow', 'allow', 'allow'])
    expect(go(T + 59_999)).toMatchObject({ verdict: 'deny', code: 'policy_velocity_exceeded' })
    // At T+60_000 the window (T, T+60_000] still holds T+1, T+2 and the denied T+59_999.
    expect(go(T + 60_000)).toMatchObject({ verdict: 'deny', code: 'policy_velocity_exceeded' })
    // At T+60_002 it holds only T+59_999 and T+60_000.
    expect(go(T + 60_002).verdict).toBe('allow')
  })

  it('velocity: perHour counts every request of the last hour', () => {
    const policy = mockPolicy({ velocity: { perHour: 2 } })
    const ledger = new SpendLedger()
    const go = (now: number) => mockDecide(ledger, { policy, action: mockPayment('1', now), now })
    expect(go(T).verdict).toBe('allow')
    expect(go(T + 1000).verdict).toBe('allow')
    expect(go(T + 3_599_999)).toMatchObject({ code: 'policy_velocity_exceeded' })
    expect(go(T + 3_600_000)).toMatchObject({ code: 'policy_velocity_exceeded' }) // T+1000 and T+3_599_999 still inside
    expect(go(T + 3_600_000 + 3_600_000).verdict).toBe('allow')
  })
})
