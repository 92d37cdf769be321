import type { KindSpec } from './KindSpec.js'
import { tokenFacts } from './spendHelpers.js'

/** EIP-2612 Permit: once submitted, `spender` may pull `amount` with no end date (the deadline only bounds submission). */
export const erc2612PermitKind: KindSpec<'erc2612_permit'> = {
  describe: (a) => `Permit ${a.spender} to spend ${a.amount} of ${a.asset} on chain ${a.chainId} (deadline ${a.deadline})`,
  facts: (a) => tokenFacts(a, a.spender, 'allowance'),
  approvalFree: [],
}
