import type { KindSpec } from './KindSpec.js'
import { tokenFacts } from './spendHelpers.js'

/** ERC-20 transfer / transferFrom transaction: the amount to `payTo` plus the worst-case fee; valid until mined. */
export const erc20TransferKind: KindSpec<'erc20_transfer'> = {
  describe: (a) => `${a.method} ${a.amount} of ${a.asset} to ${a.payTo} on chain ${a.chainId} (nonce ${a.nonce}, gas ${a.gas} × ${a.maxFeePerGas})`,
  facts: (a) => tokenFacts(a, a.payTo, 'transfer', a),
  approvalFree: ['nonce'],
}
