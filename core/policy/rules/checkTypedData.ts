import type { TypedDataMatcher } from '../../../shared/schemas/policy.js'
import type { Check, EvalContext } from '../evalTypes.js'
import { checkResult } from './checkResult.js'

/** Generic typed data: some matcher must equal the decoded domain (fields it sets) and list the primary type. */
export function checkTypedData(matchers: readonly TypedDataMatcher[] | undefined, ctx: EvalContext): Check | null {
  const a = ctx.facts.typedData
  if (!a) return null
  const ok =
    matchers?.some(
      (m) =>
        m.primaryTypes.includes(a.primaryType) &&
        (m.domainName === undefined || m.domainName === a.domainName) &&
        (m.domainVersion === undefined || m.domainVersion === a.domainVersion) &&
        (m.chainId === undefined || m.chainId === a.chainId) &&
        (m.verifyingContract === undefined || m.verifyingContract.toLowerCase() === a.verifyingContract?.toLowerCase()),
    ) ?? false
  const what = `typed data ${a.primaryType} (domain ${a.domainName ?? '-'}, ${a.verifyingContract ?? '-'}, chain ${a.chainId ?? '-'})`
  return checkResult('typedData', ok, 'policy_typed_data_not_allowed', `${what} ${ok ? 'matches' : 'matches no'} typedData entry`)
}
