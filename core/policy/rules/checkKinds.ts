import type { ActionKind } from '../../../shared/schemas/decodedAction.js'
import type { Check, EvalContext } from '../evalTypes.js'
import { checkResult } from './checkResult.js'

/** The action kind must be one the rule lists. */
export function checkKinds(kinds: readonly ActionKind[], ctx: EvalContext): Check {
  const ok = kinds.includes(ctx.action.kind)
  return checkResult('kinds', ok, 'policy_kind_not_allowed', `kind ${ctx.action.kind} ${ok ? 'is' : 'is not'} in [${kinds.join(', ')}]`)
}
