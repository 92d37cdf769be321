import { describe, expect, it } from 'vitest'
import { HOUR_MS, SpendLedger } from '../ledger/SpendLedger.js'
import { evaluatePolicy } from './evaluatePolicy.js'
import { MOCK_AGENT, MOCK_CHAIN, MOCK_PAYTO, MOCK_TX, MOCK_USDC, mockPayment, mockPolicy } from '../../test/helpers/mockPolicy.js'

const T0 = Date.UTC(2026, 10, 24, 12) // Tuesday 12:00 UTC
const spendAt = (l: SpendLedger, at: number, amount: string) =>
  l.apply({ type: 'spend', agentId: MOCK_AGENT, chainId: MOCK_CHAIN, asset: MOCK_USDC, amount, payTo: MOCK_PAYTO, role: 'authorization', host: null, at, validBefore: null })
const budget = (b: Record<string, string>, tz = 'UTC') =>
  mockPolicy({ timeZone: tz, budgets: [{ chainId: MOCK_CHAIN, asset: MOCK_USDC, ...b }] })

type Row = {
  name: string
  policy: ReturnType<typeof mockPolicy>
  prior?: [number, string][]
  amount: string
  now?: number
  code: string | null
  remaining?: string
}

const berlinDst = Date.UTC(2026, 2, 29, 12) // 2026-03-29: Berlin springs forward, a 23 h day
const berlinBack = Date.UTC(2026, 9, 25, 12) // 2026-10-25: Berlin falls back, a 25 h day
const berlinMidnight = (iso: string) => Date.parse(iso)

const rows: Row[] = [
  { name: 'per-tx: exactly at the cap', policy: budget({ perTx: '1000' }), amount: '1000', code: null },
  { name: 'per-tx: one unit over', policy: budget({ perTx: '1000' }), amount: '1001', code: 'policy_per_tx_cap_exceeded', remaining: '1000' },
  { name: 'rolling: reaching the cap exactly', policy: budget({ rolling24h: '5000' }), prior: [[T0 - HOUR_MS, '4000']], amount: '1000', code: null },
  {
    name: 'rolling: one unit over',
    policy: budget({ rolling24h: '5000' }),
    prior: [[T0 - HOUR_MS, '4000']],
    amount: '1001',
    code: 'policy_daily_cap_exceeded',
    remaining: '1000',
  },
  { name: 'rolling: a spend 1 ms inside the window counts', policy: budget({ rolling24h: '5000' }), prior: [[T0 - 24 * HOUR_MS + 1, '5000']], amount: '1', code: 'policy_daily_cap_exceeded', remaining: '0' },
  { name: 'rolling: a spend exactly 24 h old no longer counts', policy: budget({ rolling24h: '5000' }), prior: [[T0 - 24 * HOUR_MS, '5000']], amount: '5000', code: null },
  { name: 'calendar day (UTC): yesterday 23:59:59.999 does not count', policy: budget({ calendarDay: '100' }), prior: [[Date.UTC(2026, 10, 24) - 1, '100']], amount: '100', code: null },
  { name: 'calendar day (UTC): midnight counts', policy: budget({ calendarDay: '100' }), prior: [[Date.UTC(2026, 10, 24), '100']], amount: '1', code: 'policy_calendar_day_cap_exceeded', remaining: '0' },
  {
    name: 'calendar day in Berlin on the spring-forward day: local midnight is 23:00Z the day before',
    policy: budget({ calendarDay: '100' }, 'Europe/Berlin'),
    prior: [[berlinMidnight('2026-03-28T23:00:00Z'), '60']],
    now: berlinDst,
    amount: '41',
    code: 'policy_calendar_day_cap_exceeded',
    remaining: '40',
  },
  {
    name: 'calendar day in Berlin on the spring-forward day: 22:59:59.999Z is the previous day',
    policy: budget({ calendarDay: '100' }, 'Europe/Berlin'),
    prior: [[berlinMidnight('2026-03-28T23:00:00Z') - 1, '60']],
    now: berlinDst,
    amount: '100',
    code: null,
  },
  {
    name: 'calendar day in Berlin on the fall-back day: local midnight is 22:00Z the day before',
    policy: budget({ calendarDay: '100' }, 'Europe/Berlin'),
    prior: [[berlinMidnight('2026-10-24T22:00:00Z'), '100']],
    now: berlinBack,
    amount: '1',
    code: 'policy_calendar_day_cap_exceeded',
  },
  {
    name: 'calendar day in Berlin on the fall-back day: late in the 25 h day still the same day',
    policy: budget({ calendarDay: '100' }, 'Europe/Berlin'),
    prior: [[berlinMidnight('2026-10-24T22:00:00Z'), '100']],
    now: berlinMidnight('2026-10-25T22:59:59Z'),
    amount: '1',
    code: 'policy_calendar_day_cap_exceeded',
  },
  {
    name: 'calendar day in Berlin: the next day starts at 23:00Z after fall-back',
    policy: budget({ calendarDay: '100' }, 'Europe/Berlin'),
    prior: [[berlinMidnight('2026-10-24T22:00:00Z'), '100']],
    now: berlinMidnight('2026-10-25T23:00:00Z'),
    amount: '100',
    code: null,
  },
  {
    name: 'asset not in the token registry',
    policy: budget({ perTx: '1000' }),
    amount: '1',
    code: 'policy_asset_not_in_registry',
  },
  {
    name: 'registered token without a budget',
    policy: mockPolicy({ budgets: [] }),
    amount: '1',
    code: 'policy_no_budget_for_asset',
  },
  {
    name: 'rule cap narrower than the budget: at the rule cap',
    policy: mockPolicy({ rules: [{ id: 'small', effect: 'allow', kinds: ['eip3009'], caps: [{ chainId: MOCK_CHAIN, asset: MOCK_USDC, perTx: '500' }] }] }),
    amount: '500',
    code: null,
  },
  {
    name: 'rule cap narrower than the budget: one over',
    policy: mockPolicy({ rules: [{ id: 'small', effect: 'allow', kinds: ['eip3009'], caps: [{ chainId: MOCK_CHAIN, asset: MOCK_USDC, perTx: '500' }] }] }),
    amount: '501',
    code: 'policy_per_tx_cap_exceeded',
    remaining: '500',
  },
]

describe('evaluatePolicy: caps', () => {
  it.each(rows)('$name', (r) => {
    const ledger = new SpendLedger()
    for (const [at, a] of r.prior ?? []) spendAt(ledger, at, a)
    const now = r.now ?? T0
    const asset = r.name.startsWith('asset not') ? '0x9999999999999999999999999999999999999999' : MOCK_USDC
    const v = evaluatePolicy({ policy: r.policy, action: mockPayment(r.amount, now, { asset }), agentId: MOCK_AGENT, ledger, now })
    if (r.code === null) {
      expect(v.verdict, JSON.stringify(v)).toBe('allow')
      expect(v.events.find((e) => e.type === 'spend')).toMatchObject({ amount: r.amount, at: now, asset: MOCK_USDC })
    } else {
      expect(v).toMatchObject({ verdict: 'deny', code: r.code })
      if (r.remaining !== undefined) expect(v).toMatchObject({ remaining: r.remaining })
      expect(v.events.some((e) => e.type === 'spend')).toBe(false)
    }
  })

  it('a live permit hold reduces the room left for other payments', () => {
    const ledger = new SpendLedger()
    ledger.apply({ type: 'permit_issued', permitId: 'p', agentId: MOCK_AGENT, chainId: MOCK_CHAIN, asset: MOCK_USDC, amount: '3000', payTo: MOCK_PAYTO, host: null, expiresAt: T0 + HOUR_MS, exceedCaps: false, at: T0 - 1 })
    const policy = budget({ rolling24h: '5000' })
    const pay = (amount: string) => evaluatePolicy({ policy, action: mockPayment(amount, T0), agentId: MOCK_AGENT, ledger, now: T0 })
    expect(pay('2000').verdict).toBe('allow')
    expect(pay('2001')).toMatchObject({ verdict: 'deny', code: 'policy_daily_cap_exceeded', remaining: '2000' })
  })

  it('native transfers and contract calls with value spend the native budget', () => {
    const policy = mockPolicy({
      budgets: [{ chainId: MOCK_CHAIN, asset: 'native', perTx: '10' }],
      rules: [{ id: 'eth', effect: 'allow', kinds: ['native_transfer', 'contract_call'] }],
    })
    const ledger = new SpendLedger()
    const ev = (action: Parameters<typeof evaluatePolicy>[0]['action']) => evaluatePolicy({ policy, action, agentId: MOCK_AGENT, ledger, now: T0 })
    expect(ev({ kind: 'native_transfer', ...MOCK_TX, chainId: MOCK_CHAIN, amount: '10', payTo: MOCK_PAYTO }).verdict).toBe('allow')
    expect(ev({ kind: 'native_transfer', ...MOCK_TX, chainId: MOCK_CHAIN, amount: '11', payTo: MOCK_PAYTO })).toMatchObject({ code: 'policy_per_tx_cap_exceeded' })
    expect(ev({ kind: 'contract_call', ...MOCK_TX, chainId: MOCK_CHAIN, to: MOCK_PAYTO, value: '11', selector: '0x12345678', data: '0x12345678' })).toMatchObject({ code: 'policy_per_tx_cap_exceeded' })
    const zero = ev({ kind: 'contract_call', ...MOCK_TX, chainId: MOCK_CHAIN, to: MOCK_PAYTO, value: '0', selector: '0x12345678', data: '0x12345678' })
    expect(zero.verdict).toBe('allow')
    expect(zero.events.map((e) => e.type)).toEqual(['request'])
  })
})
