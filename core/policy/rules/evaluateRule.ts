import type { PolicyRule } from '../../../shared/schemas/policy.js'
import type { Check, EvalContext } from '../evalTypes.js'
import type { PolicyCode } from '../policyCodes.js'
import { checkCaps } from './checkCaps.js'
import { checkKinds } from './checkKinds.js'
import { checkMessageLength } from './checkMessageLength.js'
import { checkSetPredicates } from './checkSetPredicates.js'
import { checkTimeWindows } from './checkTimeWindows.js'
import { checkTypedData } from './checkTypedData.js'
import { checkValidityWindow } from './checkValidityWindow.js'

export type RuleOutcome = {
  /** Allow rule: every condition passed. Deny rule: every predicate held (the rule matches). */
  ok: boolean
  checks: Check[]
  /** Conditions that passed before the first failure (how close the rule came). */
  passed: number
  /** Allow rule that failed: the failing condition's code. Deny rule that matched: its denial code. */
  code: PolicyCode | undefined
}

/** Evaluates one rule's conditions in a fixed order; `full` keeps going after a failure (for explanations). */
export function evaluateRule(rule: PolicyRule, ctx: EvalContext, full: boolean): RuleOutcome {
  const checks: Check[] = []
  let failed = false
  const add = (c: Check | null) => {
    if (!c || (failed && !full)) return
    checks.push(c)
    if (!c.ok) failed = true
  }
  if (rule.kinds) add(checkKinds(rule.kinds, ctx))
  if (!failed || full) for (const c of checkSetPredicates(rule, ctx, full)) add(c)
  if (rule.effect === 'allow') {
    add(checkTypedData(rule.typedData, ctx))
    add(checkMessageLength(rule.maxMessageLength, ctx))
    add(checkTimeWindows(rule.timeWindows, ctx))
    add(checkValidityWindow(rule.maxValiditySeconds, ctx))
    if (!failed || full) for (const c of checkCaps({ caps: rule.caps, ctx, required: false, scope: 'rule' })) add(c)
    const first = checks.findIndex((c) => !c.ok)
    return {
      ok: first < 0,
      checks,
      passed: first < 0 ? checks.length : first,
      code: first < 0 ? undefined : checks[first]!.code ?? 'policy_no_matching_rule',
    }
  }
  if (rule.typedData) add(checkTypedData(rule.typedData, ctx) ?? { name: 'typedData', ok: false, message: 'not typed data' })
  add(checkTimeWindows(rule.timeWindows, ctx))
  const ok = !failed
  const held = checks.filter((c) => c.code !== undefined)
  return { ok, checks, passed: checks.filter((c) => c.ok).length, code: ok ? (held.at(-1)?.code ?? 'policy_denied_by_rule') : undefined }
}
