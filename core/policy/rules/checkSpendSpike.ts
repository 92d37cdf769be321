import { HOUR_MS } from '../../ledger/SpendLedger.js'
import type { Check, EvalContext } from '../evalTypes.js'
import { spendTotals } from '../spendTotals.js'

/**
 * Risk control: fails (and the agent is frozen) when the last hour's spend,
 * this one included, exceeds both `minimum` and multiplierPct/100 × the
 * hourly average of the previous baselineHours hours. Exact bigint maths.
 */
export function checkSpendSpike(ctx: EvalContext): Check | null {
  const rules = ctx.policy.risk?.spendSpike
  if (!rules || ctx.facts.spends.length === 0) return null
  const { ledger, agentId, now } = ctx
  for (const s of spendTotals(ctx.facts.spends))
  for (const r of rules) {
    if (r.chainId !== s.chainId || r.asset.toLowerCase() !== s.asset) continue
    const lastHour = ledger.spentAfter(agentId, s.chainId, s.asset, Math.max(now - HOUR_MS, ledger.riskResetTime(agentId))) + s.amount
    const prev =
      ledger.spentAfter(agentId, s.chainId, s.asset, now - (1 + r.baselineHours) * HOUR_MS) -
      ledger.spentAfter(agentId, s.chainId, s.asset, now - HOUR_MS)
    const spike = lastHour > BigInt(r.minimum) && lastHour * BigInt(r.baselineHours) * 100n > BigInt(r.multiplierPct) * prev
    if (spike)
      return {
        name: 'risk.spendSpike',
        ok: false,
        code: 'policy_risk_spend_spike',
        message: `last hour ${lastHour} > max(${r.multiplierPct}% of hourly average of ${prev} over ${r.baselineHours} h, ${r.minimum})`,
      }
  }
  return { name: 'risk.spendSpike', ok: true, message: 'spend within its usual pattern' }
}
