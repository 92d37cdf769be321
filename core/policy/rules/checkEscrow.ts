import type { Check, EvalContext } from '../evalTypes.js'
import { checkResult } from './checkResult.js'

/** SECURITY: batch-settlement channels one wallet's ledger keeps (never pruned: each holds its highest signed total). */
export const MAX_CHANNELS_PER_WALLET = 256

/**
 * x402 batch-settlement: the escrow must be on the policy's `escrows`; a voucher's running total may not go below
 * the highest already signed for its channel; a deposit keeps the funds locked in escrow (deposited, not yet promised
 * by a voucher) within `lockedFunds` for its chain+asset, per channel and over all the wallet's channels.
 */
export function checkEscrow(ctx: EvalContext): Check | null {
  const { escrows, channel: c } = ctx.facts
  if (escrows.length === 0 && !c) return null
  const missing = escrows.find((e) => !(ctx.policy.escrows ?? []).some((a) => a.toLowerCase() === e))
  if (missing !== undefined) return checkResult('escrows', false, 'policy_escrow_not_allowed', `escrow ${missing} is not on the escrow allowlist: add it under escrows:`)
  if (!c) return { name: 'escrows', ok: true, message: `escrow ${escrows.join(', ')} is allowed` }
  if (!ctx.ledger.channel(c.id) && ctx.ledger.channelCount() >= MAX_CHANNELS_PER_WALLET) return checkResult('channel', false, 'policy_channel_limit', `the wallet already has ${MAX_CHANNELS_PER_WALLET} batch-settlement channels`)
  if (c.total !== null) {
    const ok = c.total >= c.signedBefore
    return checkResult('channel', ok, 'policy_voucher_total_decreased', `voucher total ${c.total} ${ok ? '≥' : '<'} highest signed ${c.signedBefore} for channel ${c.id}`)
  }
  const budget = (ctx.policy.lockedFunds ?? []).find((b) => b.chainId === c.chainId && b.asset.toLowerCase() === c.asset)
  if (!budget) return checkResult('lockedFunds', false, 'policy_no_locked_budget', `no locked-funds budget for ${c.asset} on chain ${c.chainId}: add one under lockedFunds:`)
  // SECURITY: a channel's deposited sum stays a uint256 (what the sealed ledger holds), whatever the budget says.
  if ((ctx.ledger.channel(c.id)?.deposited ?? 0n) + c.lock >= 2n ** 256n) return checkResult('lockedFunds', false, 'policy_locked_funds_exceeded', `${c.asset} deposited in channel ${c.id} would pass uint256`)
  const limit = (name: string, max: string | undefined, used: bigint): Check | null => {
    if (max === undefined || used + c.lock <= BigInt(max)) return null
    const left = BigInt(max) > used ? BigInt(max) - used : 0n
    return checkResult(`lockedFunds.${name}`, false, 'policy_locked_funds_exceeded', `${c.asset} locked ${name}: ${used} + ${c.lock} > ${max}`, left.toString())
  }
  return (
    limit('perChannel', budget.perChannel, ctx.ledger.locked(c.chainId, c.asset, c.id)) ??
    limit('total', budget.total, ctx.ledger.locked(c.chainId, c.asset)) ?? { name: 'lockedFunds', ok: true, message: `${c.asset}: deposit ${c.lock} within the locked-funds budget` }
  )
}
