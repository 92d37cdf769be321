/**
 * Spend against caps, from the audit log the owner reads: every `sign_allowed` entry's decoded action, counted
 * by its kind's own spend facts (core/kinds: transfers, authorizations, allowances, native value, fees) — the
 * same answer the enclave's cap check counts. Display only: the enclave's ledger decides.
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
  /** Per decision in the last 24 h: time (ms), rolling-24 h total then, calendar-day total then. */
  points: { t: number; rolling: bigint; today: bigint }[]
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
    const today = localDay(now, policy.timeZone)
    const points = spends
      .filter((s) => s.t > now - DAY_MS)
      .map((s) => ({
        t: s.t,
        rolling: sum(spends.filter((x) => x.t > s.t - DAY_MS && x.t <= s.t)),
        today: sum(spends.filter((x) => x.t <= s.t && localDay(x.t, policy.timeZone) === localDay(s.t, policy.timeZone))),
      }))
    return {
      chainId: cap.chainId,
      asset: cap.asset,
      symbol: (token as { symbol?: string } | undefined)?.symbol ?? token?.name ?? (cap.asset === 'native' ? 'native' : `${cap.asset.slice(0, 8)}…`),
      decimals: token?.decimals ?? (cap.asset === 'native' ? 18 : 0),
      cap,
      rolling: sum(spends.filter((s) => s.t > now - DAY_MS)),
      today: sum(spends.filter((s) => localDay(s.t, policy.timeZone) === today)),
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
