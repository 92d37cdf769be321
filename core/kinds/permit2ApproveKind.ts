import type { KindSpec } from './KindSpec.js'
import { tokenFacts } from './spendHelpers.js'

/** Permit2.approve transaction: an allowance of `amount` to `spender` until `expiration`, plus the fee. */
export const permit2ApproveKind: KindSpec<'permit2_approve'> = {
  describe: (a) => `Permit2.approve ${a.spender} for ${a.amount} of ${a.asset} until ${a.expiration} on chain ${a.chainId} (nonce ${a.nonce})`,
  // The allowance outlives the transaction (validUntil null); expiration 0 means the block it is mined in, no bound here.
  facts: (a) => tokenFacts(a, a.spender, 'allowance', a),
  approvalFree: ['nonce'],
}
