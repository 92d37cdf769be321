import { factsOf } from '../kinds/kindTable.js'
import type { EvalContext, EvaluatePolicyParameters } from './evalTypes.js'
import { localTime } from './localTime.js'
import type { LocalTime } from './localTime.js'

/** Normalizes what rules read: the action's facts from its kind, the advisory resource host, lazy local time. */
export function buildEvalContext(p: EvaluatePolicyParameters): EvalContext {
  let local: LocalTime | undefined
  const facts = factsOf(p.action)
  const nonFee = facts.spends.filter((s) => s.role !== 'fee')
  return {
    policy: p.policy,
    action: p.action,
    facts,
    primary: nonFee.length === 1 ? nonFee[0]! : null,
    agentId: p.agentId,
    ledger: p.ledger,
    now: p.now,
    host: hostOf(p.context?.resourceUrl),
    local: () => (local ??= localTime(p.now, p.policy.timeZone)),
  }
}

function hostOf(url: string | undefined): string | null {
  if (!url) return null
  try {
    const h = new URL(url).hostname.toLowerCase().replace(/\.$/, '')
    // Longer than DNS allows: not a host name (and it must fit ledger events on replay).
    return h === '' || h.length > 253 ? null : h
  } catch {
    return null
  }
}
