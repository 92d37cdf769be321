import type { Cap } from '../../../shared/schemas/policy.js'
import type { Spend } from '../../kinds/KindSpec.js'
import { HOUR_MS } from '../../ledger/SpendLedger.js'
import type { Check, EvalContext } from '../evalTypes.js'
import { checkResult } from './checkResult.js'
import type { PolicyCode } from '../policyCodes.js'
import { spendTotals } from '../spendTotals.js'

export type CheckCapsParameters = {
  caps: readonly Cap[] | undefined
  ctx: EvalContext
  /** The spends to check (default: all of the action's, fees included). */
  spends?: readonly Spend[] | undefined
  /** Budgets are required for every spend; rule caps apply only where listed. */
  required: boolean
  /** Label in messages and check names (`budget` or `rule`). */
  scope: string
  /** A permit being used: its own hold is not counted against it. */
  exceptPermitId?: string | undefined
  /** Wallet-wide caps: totals over every agent of the wallet, calendar days from the wallet policy's local midnight. */
  wallet?: { dayStart: () => number } | undefined
}

const AGENT_CODES = ['policy_per_tx_cap_exceeded', 'policy_daily_cap_exceeded', 'policy_calendar_day_cap_exceeded'] as const
const WALLET_CODES = ['policy_wallet_per_tx_cap_exceeded', 'policy_wallet_daily_cap_exceeded', 'policy_wallet_calendar_day_cap_exceeded'] as const

/**
 * Per-transaction, rolling 24 h (spends at times > now − 24 h) and calendar-day
 * (spends at or after local midnight in the policy time zone) caps for each
 * (chain, asset) the action spends, fees included. Totals are the agent's (or,
 * for wallet caps, all its agents') exact ledger sums plus amounts held by live
 * permits; `remaining` is what is left before this spend.
 */
export function checkCaps({ caps, ctx, spends, required, scope, exceptPermitId, wallet }: CheckCapsParameters): Check[] {
  const out: Check[] = []
  const codes = wallet ? WALLET_CODES : AGENT_CODES
  for (const s of spendTotals(spends ?? ctx.facts.spends)) {
    const cap = caps?.find((c) => c.chainId === s.chainId && c.asset.toLowerCase() === s.asset)
    if (!cap) {
      // A zero total (e.g. a zero fee) takes nothing: no budget is needed for it.
      if (required && s.amount > 0n) out.push(checkResult(`${scope}.missing`, false, 'policy_no_budget_for_asset', `no budget for ${s.asset} on chain ${s.chainId}: add one under budgets:`))
      continue
    }
    if (cap.perTx !== undefined) {
      const max = BigInt(cap.perTx)
      const ok = s.amount <= max
      const message = `${s.asset}: amount ${s.amount} ${ok ? '≤' : '>'} per-transaction cap ${max}`
      out.push(checkResult(`${scope}.perTx`, ok, codes[0], message, cap.perTx))
    }
    if (cap.rolling24h === undefined && cap.calendarDay === undefined) continue
    const who = wallet ? null : ctx.agentId
    const windowed = (name: string, max: bigint, since: number, code: PolicyCode) => {
      // Owner-signed credits offset spends in the same window (never below zero: a credit is not a new cap).
      const used = ctx.ledger.usedAfter(who, s.chainId, s.asset, since, ctx.now, exceptPermitId)
      const ok = used + s.amount <= max
      const left = max > used ? max - used : 0n
      const message = `${s.asset} ${name}: ${wallet ? 'all agents used' : 'used'} ${used} (holds included) + ${s.amount} ${ok ? '≤' : '>'} ${max}`
      out.push(checkResult(`${scope}.${name}`, ok, code, message, left.toString()))
    }
    if (cap.rolling24h !== undefined) windowed('rolling24h', BigInt(cap.rolling24h), ctx.now - 24 * HOUR_MS, codes[1])
    if (cap.calendarDay !== undefined) windowed('calendarDay', BigInt(cap.calendarDay), (wallet ? wallet.dayStart() : ctx.local().dayStart) - 1, codes[2])
  }
  return out
}
