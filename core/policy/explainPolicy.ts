import { decidePolicy } from './decidePolicy.js'
import type { EvaluatePolicyParameters, PolicyTrace, PolicyVerdict } from './evalTypes.js'

export type ExplainPolicyReturnType = { verdict: PolicyVerdict; trace: PolicyTrace }

/** The verdict evaluatePolicy would return, plus which stages and rule conditions passed or failed; touches nothing. */
export function explainPolicy(params: EvaluatePolicyParameters): ExplainPolicyReturnType {
  const trace: PolicyTrace = { stages: [], rules: [] }
  const verdict = decidePolicy(params, trace)
  return { verdict, trace }
}
