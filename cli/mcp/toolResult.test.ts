import { describe, expect, it } from 'vitest'
import { ApprovalPendingError, PolicyDeniedError } from '../../agent/errors.js'
import { refusalResult } from './toolResult.js'

const ids = { agentId: 'agt_1', wallet: '0x000000000000000000000000000000000000dEaD' }
const data = (err: unknown) => {
  const r = refusalResult(err, ids)
  expect(r.isError).toBe(true)
  expect((r.content[0] as { text: string }).text).toMatch(/^Refused \(/)
  return r.structuredContent as Record<string, unknown>
}

describe('refusal tool results: code, rule, what the owner can do — never a throw', () => {
  it('a policy refusal names its code, rule, remaining budget and the owner commands that would help', () => {
    const d = data(new PolicyDeniedError('policy_daily_cap_exceeded', 'over the 24 h cap', { rule: 'budgets.0', remaining: '5000' }))
    expect(d).toMatchObject({ refused: true, paid: false, code: 'policy_daily_cap_exceeded', rule: 'budgets.0', remaining: '5000' })
    expect(d.ownerCanDo).toMatch(/bursar owner budget credit --wallet 0x0+dEaD --agent agt_1/)
    expect(d.rejectedByOwner).toBeUndefined()
  })

  it('approval_pending names the id and the exact approve command', () => {
    const d = data(new ApprovalPendingError('waiting', { pendingId: 'pnd_42' }))
    expect(d).toMatchObject({ code: 'approval_pending', pendingId: 'pnd_42' })
    expect(d.ownerCanDo).toContain('`bursar owner approve pnd_42`')
  })

  it('a purchase the owner rejected says not to ask again', () => {
    const d = data(new PolicyDeniedError('policy_per_tx_cap_exceeded', 'x402-merchant: over the cap (the owner rejected this request)', { rule: 'rules.x402-merchant' }))
    expect(d).toMatchObject({ rejectedByOwner: true, rule: 'rules.x402-merchant' })
    expect(d.ownerCanDo).toMatch(/do not retry it/)
  })

  it('anything else (a plain Error) is still a result with a code', () => {
    expect(data(new Error('boom'))).toMatchObject({ refused: true, code: 'tool_failed', message: 'boom', ownerCanDo: 'Nothing was paid.' })
  })
})
