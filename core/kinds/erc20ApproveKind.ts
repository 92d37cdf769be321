import type { KindSpec } from './KindSpec.js'
import { tokenFacts } from './spendHelpers.js'

/** ERC-20 approve / increaseAllowance / decreaseAllowance transaction: the allowance granted plus the fee; no end. */
export const erc20ApproveKind: KindSpec<'erc20_approve'> = {
  describe: (a) => `${a.method} ${a.spender} for ${a.amount} of ${a.asset} on chain ${a.chainId} (nonce ${a.nonce}, gas ${a.gas} × ${a.maxFeePerGas})`,
  facts: (a) => tokenFacts(a, a.spender, 'allowance', a),
  approvalFree: ['nonce'],
}
