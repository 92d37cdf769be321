import type { KindSpec } from './KindSpec.js'
import { emptyFacts, feeSpend, lower } from './spendHelpers.js'

/** Permit2.approve transaction: an allowance of `amount` to `spender` until `expiration`, plus the fee. */
export const permit2ApproveKind: KindSpec<'permit2_approve'> = {
  kind: 'permit2_approve',
  describe: (a) => `Permit2.approve ${a.spender} for ${a.amount} of ${a.asset} until ${a.expiration} on chain ${a.chainId} (nonce ${a.nonce})`,
  facts: (a) => ({
    ...emptyFacts(a.chainId),
    spends: [{ chainId: a.chainId, asset: lower(a.asset), amount: BigInt(a.amount), to: lower(a.spender), role: 'allowance' }, feeSpend(a)],
    tokens: [lower(a.asset)],
    spenders: [lower(a.spender)],
    // The allowance outlives the transaction; 0 means the block it is mined in, which has no bound here.
    validUntil: null,
  }),
  approvalFree: ['nonce'],
}
