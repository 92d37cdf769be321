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
