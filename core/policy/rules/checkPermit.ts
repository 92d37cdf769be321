import type { Check, EvalContext } from '../evalTypes.js'

const ZERO = '0x0000000000000000000000000000000000000000'

/**
 * A single-use spend permit named by the agent: it must be this agent's, live
 * (unused, not released, not expired), match the action's one non-fee spend
 * (chain, asset, its pay-to/host lock) and cover its amount.
 */
export function checkPermit(permitId: string, ctx: EvalContext): Check {
  const name = `permit.${permitId}`
  const p = ctx.ledger.getPermit(permitId)
  const s = ctx.primary
  if (!p || p.agentId !== ctx.agentId)
    return { name, ok: false, code: 'policy_permit_invalid', message: 'no such permit for this agent' }
  if (p.used || p.released || ctx.now >= p.expiresAt)
    return { name, ok: false, code: 'policy_permit_invalid', message: p.used ? 'permit already used' : 'permit expired or released' }
  if (!s || s.role === 'allowance' || s.chainId !== p.chainId || s.asset !== p.asset.toLowerCase())
    return { name, ok: false, code: 'policy_permit_mismatch', message: 'permit is for another chain or asset, or the action is not one payment' }
  if (p.payTo !== null && p.payTo !== ZERO && p.payTo.toLowerCase() !== s.to)
    return { name, ok: false, code: 'policy_permit_mismatch', message: `permit is locked to pay-to ${p.payTo}` }
  // SECURITY: the host is the SDK's word; a permit without a pay-to lock covers only x402 authorizations.
  if ((p.payTo === null || p.payTo === ZERO) && s.role !== 'authorization')
    return { name, ok: false, code: 'policy_permit_mismatch', message: 'a permit without a pay-to lock covers x402 payments only' }
  if (p.host !== null && p.host !== '' && p.host !== ctx.host)
    return { name, ok: false, code: 'policy_permit_mismatch', message: `permit is locked to host ${p.host}` }
  if (s.amount > BigInt(p.amount))
    return { name, ok: false, code: 'policy_permit_amount_exceeded', message: `amount ${s.amount} > permit ${p.amount}`, remaining: p.amount }
  return { name, ok: true, message: `permit covers ${s.amount} of ${p.amount}` }
}
