import type { Check, EvalContext } from '../evalTypes.js'

/** Token actions (eip3009, erc20_*) must name an asset listed in the policy's token registry for that chain. */
export function checkTokenRegistry(ctx: EvalContext): Check | null {
  const a = ctx.action
  if (a.kind !== 'eip3009' && a.kind !== 'erc20_transfer' && a.kind !== 'erc20_approve') return null
  const asset = a.asset.toLowerCase()
  const ok = ctx.policy.tokens.some((t) => t.chainId === a.chainId && t.asset.toLowerCase() === asset)
  return {
    name: 'tokens',
    ok,
    ...(ok ? {} : { code: 'policy_asset_not_in_registry' as const }),
    message: `asset ${asset} on chain ${a.chainId} ${ok ? 'is' : 'is not'} in the token registry`,
  }
}
