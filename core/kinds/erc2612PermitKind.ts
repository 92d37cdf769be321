import type { KindSpec } from './KindSpec.js'
import { emptyFacts, lower } from './spendHelpers.js'

/** EIP-2612 Permit: once submitted, `spender` may pull `amount` with no end date (the deadline only bounds submission). */
export const erc2612PermitKind: KindSpec<'erc2612_permit'> = {
  kind: 'erc2612_permit',
  describe: (a) => `Permit ${a.spender} to spend ${a.amount} of ${a.asset} on chain ${a.chainId} (deadline ${a.deadline})`,
  facts: (a) => ({
    ...emptyFacts(a.chainId),
    spends: [{ chainId: a.chainId, asset: lower(a.asset), amount: BigInt(a.amount), to: lower(a.spender), role: 'allowance' }],
    tokens: [lower(a.asset)],
    spenders: [lower(a.spender)],
  }),
  approvalFree: [],
}
