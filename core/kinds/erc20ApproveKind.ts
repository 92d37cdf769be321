import type { KindSpec } from './KindSpec.js'
import { tokenFacts } from './spendHelpers.js'

/** ERC-20 approve / increaseAllowance / decreaseAllowance transaction: the allowance granted plus the fee; no end. */
export const erc20ApproveKind: KindSpec<'erc20_approve'> = {
  describe: (a) => `${a.method} ${a.spender} for ${a.amount} of ${a.asset} on chain ${a.chainId} (nonce ${a.nonce}, gas ${a.gas} × ${a.maxFeePerGas})`,
  // decreaseAllowance only lowers an allowance: it grants nothing (its amount is the decrease, kept so an approval binds it).
  facts: (a) => tokenFacts(a.method === 'decreaseAllowance' ? { ...a, amount: '0' } : a, a.spender, 'allowance', a),
  approvalFree: ['nonce'],
}
