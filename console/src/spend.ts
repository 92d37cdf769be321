/**
 * Spend against caps, from the audit log the owner reads: every `sign_allowed` entry's decoded action, counted
 * by its kind's own spend facts (core/kinds: transfers, authorizations, allowances, native value, fees) — the
 * same answer the enclave's cap check counts, less the owner's budget credits (`budget_credit` ledger events of
 * CreditBudget entries, counted as core/ledger/SpendLedger.creditedAfter counts them: a credit gives back at most
 * what was spent in the window before it). Display only: the enclave's ledger decides.
 */
import { factsOf } from '../../core/kinds/kindTable.js'
import type { AuditEntry } from '../../shared/audit/auditEntry.js'
import type { Cap, Policy } from '../../shared/schemas/policy.js'

const DAY_MS = 24 * 60 * 60 * 1000

export type BudgetView = {
  chainId: number
  asset: string
  symbol: string
  decimals: number
  cap: Cap
  /** Spent in the rolling 24 h and in the policy's calendar day (base units). */
  rolling: bigint
  today: bigint
  /** Owner credits given back that still count in the rolling 24 h (base units; already taken off `rolling`). */
  credited: bigint
  /** Per decision (and credit) in the last 24 h: time (ms), rolling-24 h total then, calendar-day total then. */
  points: { t: number; rolling: bigint; today: bigint }[]
}

type Amount = { t: number; amount: bigint }

/** Owner credits to this agent on (chain, asset), from the CreditBudget entries' ledger events. */
function creditsOf(entries: readonly AuditEntry[], agentId: string, chainId: number, asset: string): Amount[] {
  const out: Amount[] = []
  for (const e of entries)
    for (const ev of e.ledger ?? []) {
      const c = ev as { type?: unknown; agentId?: unknown; chainId?: unknown; asset?: unknown; amount?: unknown; at?: unknown }
      if (c.type !== 'budget_credit' || c.agentId !== agentId || c.chainId !== chainId || String(c.asset).toLowerCase() !== asset.toLowerCase()) continue
      if (typeof c.amount !== 'string' || !/^[0-9]{1,78}$/.test(c.amount)) continue
      out.push({ t: typeof c.at === 'number' ? c.at : e.time, amount: BigInt(c.amount) })
    }
  return out.sort((a, b) => a.t - b.t)
}

/**
 * What counted against a window as it stood at time `at`: spends in the window less credits in it, a credit
 * giving back at most the window's spends made before the newest credit (SpendLedger.usedAfter, holds aside).
 */
function usedAt(spends: readonly Amount[], credits: readonly Amount[], at: number, inWindow: (t: number) => boolean): { used: bigint; credit: bigint } {
  const s = spends.filter((x) => x.t <= at && inWindow(x.t))
  const gross = sum(s)
  const upTo = credits.filter((x) => x.t <= at)
  const credited = sum(upTo.filter((x) => inWindow(x.t)))
  if (credited === 0n) return { used: gross, credit: 0n }
  const last = upTo.at(-1)!.t
  const before = sum(s.filter((x) => x.t <= last))
  const credit = credited < before ? credited : before > 0n ? before : 0n
  return { used: gross > credit ? gross - credit : 0n, credit }
}

/** Spends of one agent's allowed decisions on (chain, asset). */
function spendsOf(entries: readonly AuditEntry[], chainId: number, asset: string): { t: number; amount: bigint }[] {
  const out: { t: number; amount: bigint }[] = []
  for (const e of entries) {
    if (e.event !== 'sign_allowed' || !e.action) continue
    let amount = 0n
    try {
      for (const s of factsOf(e.action).spends) if (s.chainId === chainId && s.asset.toLowerCase() === asset.toLowerCase()) amount += s.amount
    } catch {
      continue
    }
    if (amount > 0n) out.push({ t: e.time, amount })
  }
  return out.sort((a, b) => a.t - b.t)
}

/** The local calendar date of `t` in `timeZone` (YYYY-MM-DD). */
export function localDay(t: number, timeZone: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(t)
}

export function budgetViews(policy: Policy, entries: readonly AuditEntry[], now: number): BudgetView[] {
  return policy.budgets.map((cap) => {
    const token = policy.tokens.find((t) => t.chainId === cap.chainId && t.asset.toLowerCase() === cap.asset.toLowerCase())
    const spends = spendsOf(entries, cap.chainId, cap.asset)
    const credits = creditsOf(entries, policy.agentId, cap.chainId, cap.asset)
    const dayOf = (t: number) => localDay(t, policy.timeZone)
    const rollingAt = (at: number) => usedAt(spends, credits, at, (t) => t > at - DAY_MS)
    const todayAt = (at: number) => usedAt(spends, credits, at, (t) => dayOf(t) === dayOf(at)).used
    const times = [...new Set([...spends, ...credits].map((x) => x.t).filter((t) => t > now - DAY_MS && t <= now))].sort((a, b) => a - b)
    const points = times.map((t) => ({ t, rolling: rollingAt(t).used, today: todayAt(t) }))
    const current = rollingAt(now)
    return {
      chainId: cap.chainId,
      asset: cap.asset,
      symbol: (token as { symbol?: string } | undefined)?.symbol ?? token?.name ?? (cap.asset === 'native' ? 'native' : `${cap.asset.slice(0, 8)}…`),
      decimals: token?.decimals ?? (cap.asset === 'native' ? 18 : 0),
      cap,
      rolling: current.used,
      today: todayAt(now),
      credited: current.credit,
      points,
    }
  })
}

/** Requests (decisions) in the last minute and hour, for the velocity limits. */
export function velocity(entries: readonly AuditEntry[], now: number): { minute: number; hour: number } {
  const asks = entries.filter((e) => e.event === 'sign_allowed' || e.event === 'sign_denied' || e.event === 'sign_pending')
  return { minute: asks.filter((e) => e.time > now - 60_000).length, hour: asks.filter((e) => e.time > now - 3_600_000).length }
}

function sum(xs: { amount: bigint }[]): bigint {
  return xs.reduce((a, x) => a + x.amount, 0n)
}

/** Base units → a decimal string with the token's decimals. */
export function formatUnits(v: bigint, decimals: number): string {
  if (decimals === 0) return v.toString()
  const neg = v < 0n
  const s = (neg ? -v : v).toString().padStart(decimals + 1, '0')
  const int = s.slice(0, -decimals)
  const frac = s.slice(-decimals).replace(/0+$/, '')
  return `${neg ? '-' : ''}${int}${frac ? `.${frac}` : ''}`
}
