/**
 * "What would change": the agent's recent decisions replayed, in order, through the enclave's own evaluator
 * (core/policy/evaluatePolicy) under the edited policy, with a fresh ledger that counts what that replay allows.
 * Requests decided by an owner approval or a permit are left out (they do not depend on the rules). An
 * estimate: spending before the window, budget credits and other agents are not in the replay.
 */
import { SpendLedger } from '../../core/ledger/SpendLedger.js'
import { evaluatePolicy } from '../../core/policy/evaluatePolicy.js'
import type { AuditEntry } from '../../shared/audit/auditEntry.js'
import type { Policy } from '../../shared/schemas/policy.js'

export type DryRunChange = { seq: number; time: number; was: string; now: string; why: string; amount: string | null }
export type DryRunResult = { considered: number; changes: DryRunChange[] }

export function dryRunPolicy(policy: Policy, entries: readonly AuditEntry[], last = 100): DryRunResult {
  const asks = entries
    .filter((e) => (e.event === 'sign_allowed' || e.event === 'sign_denied' || e.event === 'sign_pending') && e.action !== null)
    .filter((e) => !(e.rule ?? '').startsWith('pending.') && !(e.rule ?? '').startsWith('permit'))
    .slice(-last)
  const ledger = new SpendLedger()
  const changes: DryRunChange[] = []
  for (const e of asks) {
    let verdict: ReturnType<typeof evaluatePolicy>
    try {
      verdict = evaluatePolicy({ policy, action: e.action!, context: { resourceUrl: e.resourceUrl }, agentId: policy.agentId, ledger, now: e.time })
    } catch {
      continue
    }
    for (const ev of verdict.events) {
      try {
        ledger.apply(ev)
      } catch {
        // An event that does not fit this replayed ledger (e.g. a pending id seen twice): skip it.
      }
    }
    if (verdict.verdict !== e.verdict) {
      changes.push({
        seq: e.seq,
        time: e.time,
        was: `${e.verdict}${e.rule ? ` (${e.rule})` : ''}`,
        now: verdict.verdict,
        why: verdict.verdict === 'allow' ? `allowed by ${verdict.rule}` : `${verdict.code} (${verdict.rule})`,
        amount: (e.action as { amount?: string }).amount ?? null,
      })
    }
  }
  return { considered: asks.length, changes }
}
