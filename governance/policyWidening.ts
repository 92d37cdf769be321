import { canonicalJson } from '../shared/canonical/canonicalJson.js'
import type { AllowRule, Cap, Policy } from '../shared/schemas/policy.js'
import type { WalletPolicy } from '../shared/schemas/walletPolicy.js'
import { SET_NAMES } from '../core/policy/rules/checkSetPredicates.js'

type AnySet = { in: readonly (string | number)[] } | { notIn: readonly (string | number)[] } | undefined
const key = (v: string | number) => String(v).toLowerCase()
const same = (a: unknown, b: unknown) => canonicalJson(a ?? null) === canonicalJson(b ?? null)
/** `next` may be absent only where `prev` is; where both are, next ≤ prev. */
const notAbove = (prev: number | string | undefined, next: number | string | undefined) =>
  prev === undefined || (next !== undefined && BigInt(next) <= BigInt(prev))

/**
 * What a new policy lets the agent do that the installed one did not, as a list of paths (empty: it only narrows or
 * is equal). SECURITY: sound, not complete: anything not provably narrower counts as widening (a new payee, a higher
 * cap, a longer validity, a new kind, a removed deny rule, another time zone, …), so the time lock can only err on the
 * side of waiting. No installed policy: everything widens.
 */
export function policyWidenings(prev: Policy | null, next: Policy): string[] {
  if (!prev) return ['policy (none installed)']
  const out: string[] = []
  const check = (ok: boolean, path: string) => ok || out.push(path)
  check(prev.timeZone === next.timeZone, 'timeZone')
  check(notAbove(prev.expiresAt, next.expiresAt), 'expiresAt')
  check(next.tokens.every((t) => prev.tokens.some((p) => same(p, t))), 'tokens')
  check((next.facilitators ?? []).every((f) => (prev.facilitators ?? []).some((p) => key(p) === key(f))), 'facilitators')
  check(notAbove(prev.velocity?.perMinute, next.velocity?.perMinute) && notAbove(prev.velocity?.perHour, next.velocity?.perHour), 'velocity')
  check((next.pendingTtlSeconds ?? 900) <= (prev.pendingTtlSeconds ?? 900), 'pendingTtlSeconds')
  check((next.preApprovals ?? []).every((a) => (prev.preApprovals ?? []).some((p) => same(p, a))), 'preApprovals')
  const spikes = prev.risk?.spendSpike ?? []
  check(spikes.every((s) => (next.risk?.spendSpike ?? []).some((n) => same(n, s))), 'risk.spendSpike')
  const burst = prev.risk?.denialBurst
  check(!burst || (!!next.risk?.denialBurst && next.risk.denialBurst.count <= burst.count && next.risk.denialBurst.windowMinutes >= burst.windowMinutes), 'risk.denialBurst')
  capWidenings(prev.budgets, next.budgets, 'budgets', true, out)
  for (const d of prev.rules) if (d.effect === 'deny') check(next.rules.some((n) => same(n, d)), `rules.${d.id} (deny rule removed or changed)`)
  for (const r of next.rules) {
    if (r.effect !== 'allow') continue
    check(prev.rules.some((p) => p.effect === 'allow' && ruleNarrower(p, r)), `rules.${r.id}`)
  }
  return out
}

/** The same for a wallet policy: its wallet-wide caps (a removed or raised cap widens; a new one narrows). */
export function walletPolicyWidenings(prev: WalletPolicy | null, next: WalletPolicy): string[] {
  const out: string[] = []
  if (prev && prev.timeZone !== next.timeZone) out.push('timeZone')
  capWidenings(prev?.budgets ?? [], next.budgets, 'budgets', false, out)
  return out
}

/**
 * Caps per (chain, asset). `budgets` (agent policy): a budget for a new asset widens (without one the asset is refused),
 * a dropped one narrows. Rule and wallet caps: a dropped cap widens (no limit), a new one narrows.
 */
function capWidenings(prev: readonly Cap[], next: readonly Cap[], path: string, required: boolean, out: string[]): void {
  const id = (c: Cap) => `${c.chainId}:${key(c.asset)}`
  for (const n of next) {
    const p = prev.find((c) => id(c) === id(n))
    if (!p) {
      if (required) out.push(`${path}[${id(n)}] (new asset)`)
      continue
    }
    for (const f of ['perTx', 'rolling24h', 'calendarDay'] as const) if (!notAbove(p[f], n[f])) out.push(`${path}[${id(n)}].${f}`)
  }
  if (!required) for (const p of prev) if (!next.some((n) => id(n) === id(p))) out.push(`${path}[${id(p)}] (removed)`)
}

/** Whether everything allow rule `n` allows, `p` allowed too (each condition at least as strict). */
function ruleNarrower(p: AllowRule, n: AllowRule): boolean {
  const out: string[] = []
  capWidenings(p.caps ?? [], n.caps ?? [], 'caps', false, out)
  return (
    out.length === 0 &&
    n.kinds.every((k) => p.kinds.includes(k)) &&
    SET_NAMES.every((s) => setNarrower(p[s] as AnySet, n[s] as AnySet)) &&
    (p.typedData === undefined || same(p.typedData, n.typedData)) &&
    (p.timeWindows === undefined || same(p.timeWindows, n.timeWindows)) &&
    notAbove(p.maxMessageLength, n.maxMessageLength) &&
    notAbove(p.maxValiditySeconds, n.maxValiditySeconds)
  )
}

/** `in` lists may only shrink, `notIn` lists only grow; dropping a predicate widens. */
function setNarrower(p: AnySet, n: AnySet): boolean {
  if (!p) return true
  if (!n) return false
  if ('in' in p) return 'in' in n && n.in.every((v) => p.in.some((x) => key(x) === key(v)))
  if ('notIn' in n) return p.notIn.every((v) => n.notIn.some((x) => key(x) === key(v)))
  return n.in.every((v) => !p.notIn.some((x) => key(x) === key(v)))
}
