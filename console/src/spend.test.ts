import { describe, expect, it } from 'vitest'
import { mockAuditBody } from '../../shared/audit/mockAuditLog.js'
import type { AuditEntry } from '../../shared/audit/auditEntry.js'
import type { Policy } from '../../shared/schemas/policy.js'
import { budgetViews, formatUnits, localDay, velocity } from './spend.js'

const TOKEN = '0x036CbD53842c5426634e7929541eC2318f3dCF7e'
const NOW = Date.parse('2026-12-01T10:00:00Z')
const policy = {
  version: 1,
  wallet: '0x1111111111111111111111111111111111111111',
  agentId: `agt_${'ab'.repeat(20)}`,
  timeZone: 'Europe/Berlin',
  tokens: [{ chainId: 84532, asset: TOKEN, name: 'USDC', version: '2', decimals: 6 }],
  budgets: [{ chainId: 84532, asset: TOKEN, perTx: '5000000', rolling24h: '20000000', calendarDay: '10000000' }],
  rules: [],
} as Policy
const entry = (i: number, time: number, amount: string, event: AuditEntry['event'] = 'sign_allowed'): AuditEntry => {
  const b = mockAuditBody(i)
  return { ...b, seq: i, prevHash: `0x${'00'.repeat(32)}`, time, event, action: { ...(b.action as object), amount } as AuditEntry['action'] }
}

describe('console spend view', () => {
  it('counts allowed spends in the rolling 24 h and the policy time zone’s calendar day, not denials', () => {
    const entries = [
      entry(0, NOW - 30 * 3600_000, '9000000'), // outside both windows
      entry(1, Date.parse('2026-11-30T22:30:00Z'), '1000000'), // 23:30 Berlin on 11-30: rolling only
      entry(2, Date.parse('2026-11-30T23:30:00Z'), '2000000'), // 00:30 Berlin on 12-01: both
      entry(3, NOW - 50_000, '4000000', 'sign_denied'),
      entry(4, NOW - 30_000, '500000'),
    ]
    const [b] = budgetViews(policy, entries, NOW)
    expect(b).toMatchObject({ symbol: 'USDC', decimals: 6, rolling: 3_500_000n, today: 2_500_000n })
    // Each point is the total in the windows as they stood at that spend (the 30 h old one still counted then).
    expect(b!.points.map((p) => [p.rolling, p.today])).toEqual([[10_000_000n, 10_000_000n], [12_000_000n, 2_000_000n], [3_500_000n, 2_500_000n]])
    expect(localDay(Date.parse('2026-11-30T23:30:00Z'), 'Europe/Berlin')).toBe('2026-12-01')
    expect(velocity(entries, NOW)).toEqual({ minute: 2, hour: 2 })
  })

  it('takes the owner’s budget credits off, as the enclave does: at most what was spent in the window before the credit', () => {
    const credit = (i: number, time: number, amount: string, agentId = policy.agentId): AuditEntry => ({
      ...entry(i, time, '0', 'budget_released' as AuditEntry['event']),
      action: undefined as unknown as AuditEntry['action'],
      ledger: [{ type: 'budget_credit', agentId, chainId: 84532, asset: TOKEN.toLowerCase(), amount, at: time }],
    })
    const entries = [
      entry(1, NOW - 5 * 3600_000, '3000000'),
      credit(2, NOW - 4 * 3600_000, '1000000'),
      credit(3, NOW - 4 * 3600_000 + 1, '9000000', `agt_${'cd'.repeat(20)}`), // another agent's: not ours
      entry(4, NOW - 3600_000, '2000000'),
    ]
    const [b] = budgetViews(policy, entries, NOW)
    expect(b).toMatchObject({ rolling: 4_000_000n, today: 4_000_000n, credited: 1_000_000n })
    expect(b!.points.map((p) => p.rolling)).toEqual([3_000_000n, 2_000_000n, 4_000_000n])
    // A credit larger than what was spent before it gives back only that much (never a negative spend).
    const [big] = budgetViews(policy, [entry(1, NOW - 5 * 3600_000, '3000000'), credit(2, NOW - 4 * 3600_000, '8000000'), entry(3, NOW - 3600_000, '2000000')], NOW)
    expect(big).toMatchObject({ rolling: 2_000_000n, credited: 3_000_000n })
    // Once the spends it gave back leave the window, the credit stops counting.
    const [old] = budgetViews(policy, [entry(1, NOW - 25 * 3600_000, '3000000'), credit(2, NOW - 23 * 3600_000, '1000000'), entry(3, NOW - 3600_000, '2000000')], NOW)
    expect(old).toMatchObject({ rolling: 2_000_000n, credited: 0n })
  })

  it('formats base units', () => {
    expect(formatUnits(1_500_000n, 6)).toBe('1.5')
    expect(formatUnits(5n, 6)).toBe('0.000005')
    expect(formatUnits(-2_000_000n, 6)).toBe('-2')
    expect(formatUnits(42n, 0)).toBe('42')
  })
})
