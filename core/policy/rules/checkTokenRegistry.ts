import type { Check, EvalContext } from '../evalTypes.js'
import { checkResult } from './checkResult.js'

/** Every token an action moves or allows must be listed in the policy's token registry for its chain. */
export function checkTokenRegistry(ctx: EvalContext): Check | null {
  const { tokens, chainId } = ctx.facts
  if (tokens.length === 0) return null
  const missing = tokens.find((t) => !ctx.policy.tokens.some((e) => e.chainId === chainId && e.asset.toLowerCase() === t))
  if (missing !== undefined) {
    return checkResult('tokens', false, 'policy_asset_not_in_registry', `token ${missing} on chain ${chainId} is not in the token registry: add it under tokens:`)
  }
  return { name: 'tokens', ok: true, message: `token ${tokens.join(', ')} on chain ${chainId} is in the token registry` }
}

/** Every x402 facilitator an action lets settle (upto) must be on the policy's facilitator allowlist. */
export function checkFacilitators(ctx: EvalContext): Check | null {
  const { facilitators } = ctx.facts
  if (facilitators.length === 0) return null
  const missing = facilitators.find((f) => !(ctx.policy.facilitators ?? []).some((a) => a.toLowerCase() === f))
  const why = missing === undefined ? `facilitator ${facilitators.join(', ')} is on the facilitator allowlist` : `facilitator ${missing} is not on the facilitator allowlist: add it under facilitators:`
  return checkResult('facilitators', missing === undefined, 'policy_facilitator_not_allowed', why)
}
