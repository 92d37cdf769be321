import { describe, expect, it } from 'vitest'
import { parseWalletPolicy, type WalletPolicy } from '../../shared/schemas/walletPolicy.js'
import { HOUR_MS, SpendLedger } from '../ledger/SpendLedger.js'
import { MOCK_AGENT, MOCK_CHAIN, MOCK_PAYTO, MOCK_USDC, MOCK_WALLET, mockDecide, mockPayment, mockPolicy } from '../../test/helpers/mockPolicy.js'
import { agentStatusView } from './budgetStatus.js'

const T0 = Date.UTC(2026, 10, 24, 12) // Tuesday 12:00 UTC
const AGENTS = [MOCK_AGENT, `agt_${'1'.repeat(40)}`, `agt_${'2'.repeat(40)}`]
const big = { chainId: MOCK_CHAIN, asset: MOCK_USDC, perTx: '1000000', rolling24h: '1000000000' }
const agentPolicy = (agentId: string) => mockPolicy({ agentId, budgets: [big] })
const walletPolicy = (cap: Record<string, string>, timeZone = 'UTC'): WalletPolicy =>
  parseWalletPolicy({ version: 1, wallet: MOCK_WALLET, timeZone, budgets: [{ chainId: MOCK_CHAIN, asset: MOCK_USDC, ...cap }] })
const pay = (ledger: SpendLedger, agentId: string, amount: number, now: number, w: WalletPolicy | null, extra: { permitId?: string } = {}) =>
  mockDecide(ledger, { agentId, policy: agentPolicy(agentId), action: mockPayment(String(amount), now), now, walletPolicy: w, ...extra })

describe('wallet-wide caps (wallet policy) across all agents', () => {
  it('rolling 24 h: three agents together stop exactly at the wallet cap; each agent alone is far from its own', () => {
    const ledger = new SpendLedger()
    const w = walletPolicy({ rolling24h: '10000' })
    const verdicts = Array.from({ length: 30 }, (_, i) => pay(ledger, AGENTS[i % 3]!, 500, T0 + i, w))
    expect(verdicts.filter((v) => v.verdict === 'allow').length).toBe(20)
    const denied = verdicts.filter((v) => v.verdict === 'deny')
    expect(denied.every((v) => v.verdict === 'deny' && v.code === 'policy_wallet_daily_cap_exceeded' && v.rule === 'wallet.rolling24h')).toBe(true)
    expect(denied[0]).toMatchObject({ remaining: '0' })
    // 24 h after the first spends they leave the window for every agent.
    expect(pay(ledger, AGENTS[1]!, 500, T0 + 24 * HOUR_MS + 1, w).verdict).toBe('allow')
  })

  it('per-tx and calendar day (wallet time zone, not the agent policy’s)', () => {
    const ledger = new SpendLedger()
    expect(pay(ledger, AGENTS[0]!, 301, T0, walletPolicy({ perTx: '300' }))).toMatchObject({ verdict: 'deny', code: 'policy_wallet_per_tx_cap_exceeded', remaining: '300' })
    // Tokyo midnight is 15:00Z: 14:59Z on the 24th is the 24th in Tokyo, 16:00Z is already the 25th (a new wallet day).
    const tokyo = walletPolicy({ calendarDay: '1000' }, 'Asia/Tokyo')
    const before = Date.UTC(2026, 10, 24, 14, 59)
    const after = Date.UTC(2026, 10, 24, 16)
    expect(pay(ledger, AGENTS[1]!, 1000, before, tokyo).verdict).toBe('allow')
    expect(pay(ledger, AGENTS[2]!, 1000, after, tokyo).verdict).toBe('allow')
    expect(pay(ledger, AGENTS[0]!, 1, after + 1, tokyo)).toMatchObject({ verdict: 'deny', code: 'policy_wallet_calendar_day_cap_exceeded', remaining: '0' })
  })

  it('owner credits to one agent and another agent’s live permit hold count wallet-wide', () => {
    const ledger = new SpendLedger()
    const w = walletPolicy({ rolling24h: '1000' })
    expect(pay(ledger, AGENTS[0]!, 800, T0, w).verdict).toBe('allow')
    ledger.apply({ type: 'permit_issued', permitId: 'p1', agentId: AGENTS[1]!, chainId: MOCK_CHAIN, asset: MOCK_USDC, amount: '150', payTo: MOCK_PAYTO, host: null, expiresAt: T0 + HOUR_MS, exceedCaps: false, at: T0 })
    // 800 spent + 150 held: 50 left for anyone else.
    expect(pay(ledger, AGENTS[2]!, 51, T0 + 1, w)).toMatchObject({ verdict: 'deny', code: 'policy_wallet_daily_cap_exceeded', remaining: '50' })
    // The holder may use its own hold (its own permit is not counted against it).
    expect(pay(ledger, AGENTS[1]!, 150, T0 + 2, w, { permitId: 'p1' }).verdict).toBe('allow')
    ledger.apply({ type: 'budget_credit', agentId: AGENTS[0]!, chainId: MOCK_CHAIN, asset: MOCK_USDC, amount: '300', at: T0 + 3 })
    // 800 − 300 credited + 150 used by the permit = 650: 350 left wallet-wide.
    expect(pay(ledger, AGENTS[2]!, 351, T0 + 4, w)).toMatchObject({ verdict: 'deny', remaining: '350' })
    expect(pay(ledger, AGENTS[2]!, 350, T0 + 5, w).verdict).toBe('allow')
    expect(pay(ledger, AGENTS[0]!, 1, T0 + 6, w).verdict).toBe('deny')
  })

  it('no wallet cap for an asset: nothing is required (the agent budgets still are)', () => {
    const ledger = new SpendLedger()
    const other = parseWalletPolicy({ version: 1, wallet: MOCK_WALLET, timeZone: 'UTC', budgets: [{ chainId: 1, asset: 'native', perTx: '1' }] })
    expect(pay(ledger, AGENTS[0]!, 999, T0, other).verdict).toBe('allow')
  })

  it('the status view (agent budget output) reports what all agents together have left', () => {
    const ledger = new SpendLedger()
    const w = walletPolicy({ rolling24h: '10000', calendarDay: '9000' })
    pay(ledger, AGENTS[1]!, 700, T0, w)
    pay(ledger, AGENTS[2]!, 300, T0, w)
    const policies = new Map([[AGENTS[0]!, { agentId: AGENTS[0]!, json: JSON.stringify(agentPolicy(AGENTS[0]!)), version: 1, hash: '0x' as const }]])
    const v = agentStatusView({ wallet: { policies, ledger, walletPolicy: { json: JSON.stringify(w), version: 1, hash: '0x' } }, revoked: false, agentId: AGENTS[0]!, now: T0 + 1 })
    expect(v.budgets[0]!.rolling24h).toEqual({ limit: '1000000000', used: '0', remaining: '1000000000' })
    expect(v.walletBudgets[0]).toMatchObject({ rolling24h: { limit: '10000', used: '1000', remaining: '9000' }, calendarDay: { limit: '9000', used: '1000', remaining: '8000' } })
  })

  it('the wallet policy schema is strict and refuses duplicate caps', () => {
    expect(() => parseWalletPolicy({ version: 1, wallet: MOCK_WALLET, timeZone: 'UTC', budgets: [], extra: 1 })).toThrow()
    const cap = { chainId: MOCK_CHAIN, asset: MOCK_USDC, perTx: '1' }
    expect(() => parseWalletPolicy({ version: 1, wallet: MOCK_WALLET, timeZone: 'UTC', budgets: [cap, { ...cap, asset: MOCK_USDC.toUpperCase().replace('0X', '0x') }] })).toThrow(/duplicate/)
  })
})
