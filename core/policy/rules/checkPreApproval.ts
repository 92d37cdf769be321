import type { PreApproval } from '../../../shared/schemas/policy.js'
import { HOUR_MS } from '../../ledger/SpendLedger.js'
import type { Check, EvalContext } from '../evalTypes.js'

/**
 * Does this offline pre-approval cover the action's one payment: kind, chain, asset, its
 * pay-to or host lock, not expired, within its per-transaction amount and its
 * rolling 24 h count and amount (counting only spends it allowed)?
 */
export function checkPreApproval(pa: PreApproval, ctx: EvalContext): Check {
  const name = `preApprovals.${pa.id}`
  const s = ctx.primary
  const miss = (why: string): Check => ({ name, ok: false, message: why })
  if (!s || s.role === 'allowance' || !(pa.kinds as readonly string[]).includes(ctx.action.kind)) return miss(`kind ${ctx.action.kind} not covered`)
  if (pa.chainId !== s.chainId || pa.asset.toLowerCase() !== s.asset) return miss('other chain or asset')
  if (pa.payTo !== undefined && pa.payTo.toLowerCase() !== s.to) return miss(`pay-to ${s.to} is not ${pa.payTo}`)
  if (pa.host !== undefined && pa.host !== ctx.host) return miss(`host ${ctx.host ?? '(none)'} is not ${pa.host}`)
  if (pa.expiresAt !== undefined && ctx.now >= pa.expiresAt) return miss('expired')
  if (s.amount > BigInt(pa.maxAmountPerTx)) return miss(`amount ${s.amount} > ${pa.maxAmountPerTx}`)
  const used = ctx.ledger.preApprovalUsage(ctx.agentId, pa.id, ctx.now - 24 * HOUR_MS)
  const exhausted = (why: string): Check => ({ name, ok: false, code: 'policy_pre_approval_exhausted', message: why })
  if (pa.maxCountPerDay !== undefined && used.count + 1 > pa.maxCountPerDay)
    return exhausted(`${used.count} payments in 24 h, max ${pa.maxCountPerDay}`)
  if (pa.maxAmountPerDay !== undefined && used.amount + s.amount > BigInt(pa.maxAmountPerDay))
    return exhausted(`${used.amount} + ${s.amount} in 24 h > ${pa.maxAmountPerDay}`)
  return { name, ok: true, message: `covered (${used.count} payments, ${used.amount} in 24 h before this one)` }
}
