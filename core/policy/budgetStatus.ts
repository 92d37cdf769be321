import { type Cap, parseStoredPolicy } from '../../shared/schemas/policyShape.js'
import { parseWalletPolicy } from '../../shared/schemas/walletPolicy.js'
import type { LedgerView } from '../state/stateTypes.js'
import type { EvalContext } from './evalTypes.js'
import { localTime } from './localTime.js'
import { type WalletPolicies, policyAt } from '../owner/policyAt.js'
import { checkCaps } from './rules/checkCaps.js'

export type AgentStatusViewParameters = {
  /** The wallet's policy records (a revoked one leaves nothing to spend) and its ledger. */
  wallet: WalletPolicies & { ledger: LedgerView }
  revoked: boolean
  agentId: string
  now: number
}

/**
 * What an agent may still spend at `now`: per budget the per-payment cap and,
 * per window, `{ limit, used, remaining }` as the policy's own cap check
 * reports them (checkCaps probed with an amount past every cap, so this read
 * never disagrees with the evaluator), plus live permits and approval
 * requests, and the wallet-wide caps (`walletBudgets`, all agents together). Read only.
 */
export function agentStatusView({ wallet, revoked, agentId, now }: AgentStatusViewParameters) {
  const ledger = wallet.ledger
  // What is in force now (a scheduled widening only after its delay), and what is scheduled: the agent is told.
  const rec = [policyAt(wallet, agentId, now)].find((r) => r && !r.revoked)
  const policy = rec ? parseStoredPolicy(rec.json) : null
  const wrec = policyAt(wallet, null, now)
  const wp = wrec ? parseWalletPolicy(wrec.json) : null
  const view = (cap: Cap, timeZone: string, walletWide: boolean) => {
    const spend = { chainId: cap.chainId, asset: cap.asset.toLowerCase(), amount: 2n ** 256n, to: null, role: 'transfer' as const }
    const dayStart = () => localTime(now, timeZone).dayStart
    const ctx = { policy, agentId, ledger, now, local: () => localTime(now, timeZone) } as unknown as EvalContext
    const checks = checkCaps({ caps: [cap], ctx, spends: [spend], required: true, scope: 'b', ...(walletWide ? { wallet: { dayStart } } : {}) })
    const left = (name: string, limit: string | undefined) => {
      const remaining = checks.find((c) => c.name === `b.${name}`)?.remaining
      return limit === undefined || remaining === undefined ? null : { limit, used: String(BigInt(limit) - BigInt(remaining)), remaining }
    }
    const token = policy?.tokens.find((t) => t.chainId === cap.chainId && t.asset.toLowerCase() === spend.asset)
    const unit = { symbol: token?.symbol ?? null, decimals: token?.decimals ?? null }
    return { chainId: cap.chainId, asset: cap.asset, ...unit, perTx: cap.perTx ?? null, rolling24h: left('rolling24h', cap.rolling24h), calendarDay: left('calendarDay', cap.calendarDay) }
  }
  const budgets = (policy?.budgets ?? []).map((cap) => view(cap, policy!.timeZone, false))
  // Wallet-wide caps: what all of the wallet's agents together have left (this agent's spends included).
  const walletBudgets = (wp?.budgets ?? []).map((cap) => view(cap, wp!.timeZone, true))
  const { permits, pendings } = ledger.toJSON()
  return {
    now,
    revoked,
    policy: rec && policy ? { version: rec.version, hash: rec.hash, expiresAt: policy.expiresAt ?? null } : null,
    frozen: ledger.frozenInfo(agentId) !== undefined,
    budgets,
    walletBudgets,
    scheduled: (wallet.scheduled ?? [])
      .filter((s) => (s.agentId === agentId || s.agentId === null) && s.effectiveAt > now)
      .map((s) => ({ wallet: s.agentId === null, version: s.policy.version, widens: s.widens, effectiveAt: s.effectiveAt })),
    permits: permits.filter((p) => p.agentId === agentId && !p.used && !p.released && p.expiresAt > now),
    pending: pendings
      .filter((p) => p.agentId === agentId)
      .map((p) => ({ id: p.pendingId, status: p.status === 'pending' && p.expiresAt <= now ? 'expired' : p.status, expiresAt: p.expiresAt, summary: p.summary ?? null })),
  }
}
