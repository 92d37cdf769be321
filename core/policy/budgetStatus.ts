import type { Policy } from '../../shared/schemas/policy.js'
import type { SpendLedger } from '../ledger/SpendLedger.js'
import type { EvalContext } from './evalTypes.js'
import { localTime } from './localTime.js'
import { checkCaps } from './rules/checkCaps.js'

/** `policy` null: no active policy (nothing is left to spend, permits and approvals are still listed). */
export type BudgetStatusParameters = { policy: Policy | null; ledger: SpendLedger; agentId: string; now: number }

type WindowLeft = { limit: string; used: string; remaining: string }
export type BudgetStatusReturnType = {
  budgets: {
    chainId: number
    asset: string
    symbol: string | null
    decimals: number | null
    perTx: string | null
    rolling24h: WindowLeft | null
    calendarDay: WindowLeft | null
  }[]
  velocity: { perMinute: { limit: number; used: number } | null; perHour: { limit: number; used: number } | null }
  frozen: boolean
  /** Live (unused, unexpired) spend permits of this agent. */
  permits: Record<string, unknown>[]
  /** This agent's approval requests, with `expired` for the ones the owner never answered in time. */
  pending: Record<string, unknown>[]
}

// An amount past every cap: each windowed check fails and reports exactly what is left.
const PROBE = 2n ** 256n

/**
 * What the policy's budgets leave an agent at `now`, computed by the policy's
 * own cap check (checkCaps, probed with an amount past every cap so each
 * window reports its `remaining`), so this read can never disagree with what
 * the evaluator will decide. Read only: the ledger is not touched.
 */
export function budgetStatus({ policy, ledger, agentId, now }: BudgetStatusParameters): BudgetStatusReturnType {
  const dump = ledger.toJSON()
  const permits = dump.permits
    .filter((p) => p.agentId === agentId && !p.used && !p.released && p.expiresAt > now)
    .map((p) => ({ ...p }) as Record<string, unknown>)
  const pending = dump.pendings
    .filter((p) => p.agentId === agentId)
    .map((p) => {
      const status = p.status === 'pending' && p.expiresAt <= now ? 'expired' : p.status
      return { id: p.pendingId, status, createdAt: p.createdAt, expiresAt: p.expiresAt, summary: p.summary ?? null }
    })
  const frozen = ledger.frozenInfo(agentId) !== undefined
  if (!policy) return { budgets: [], velocity: { perMinute: null, perHour: null }, frozen, permits, pending }
  const budgets = policy.budgets.map((cap) => {
    const asset = cap.asset.toLowerCase()
    const ctx = {
      policy,
      agentId,
      ledger,
      now,
      host: null,
      spend: { chainId: cap.chainId, asset, amount: PROBE, payTo: null },
      local: () => localTime(now, policy.timeZone),
    } as unknown as EvalContext // checkCaps reads spend, ledger, agentId, now and local only
    const checks = checkCaps({ caps: [cap], ctx, required: true, scope: 'budget' })
    const windowOf = (name: string, limit: string | undefined): WindowLeft | null => {
      const c = checks.find((x) => x.name === `budget.${name}`)
      if (limit === undefined || !c) return null
      const remaining = c.remaining ?? limit
      const used = BigInt(limit) > BigInt(remaining) ? BigInt(limit) - BigInt(remaining) : 0n
      return { limit, used: used.toString(), remaining }
    }
    const token = policy.tokens.find((t) => t.chainId === cap.chainId && t.asset.toLowerCase() === asset)
    return {
      chainId: cap.chainId,
      asset: cap.asset,
      symbol: token?.symbol ?? null,
      decimals: token?.decimals ?? null,
      perTx: cap.perTx ?? null,
      rolling24h: windowOf('rolling24h', cap.rolling24h),
      calendarDay: windowOf('calendarDay', cap.calendarDay),
    }
  })
  const v = policy.velocity
  return {
    budgets,
    velocity: {
      perMinute: v?.perMinute ? { limit: v.perMinute, used: ledger.requestsAfter(agentId, now - 60_000) } : null,
      perHour: v?.perHour ? { limit: v.perHour, used: ledger.requestsAfter(agentId, now - 3_600_000) } : null,
    },
    frozen,
    permits,
    pending,
  }
}
