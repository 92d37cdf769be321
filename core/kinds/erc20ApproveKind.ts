import type { KindSpec } from './KindSpec.js'
import { emptyFacts, feeSpend, lower } from './spendHelpers.js'

/** ERC-20 approve / increaseAllowance / decreaseAllowance transaction: the allowance granted plus the fee; no end. */
export const erc20ApproveKind: KindSpec<'erc20_approve'> = {
  kind: 'erc20_approve',
  describe: (a) => `${a.method} ${a.spender} for ${a.amount} of ${a.asset} on chain ${a.chainId} (nonce ${a.nonce}, gas ${a.gas} × ${a.maxFeePerGas})`,
  facts: (a) => ({
    ...emptyFacts(a.chainId),
    spends: [{ chainId: a.chainId, asset: lower(a.asset), amount: BigInt(a.amount), to: lower(a.spender), role: 'allowance' }, feeSpend(a)],
    tokens: [lower(a.asset)],
    spenders: [lower(a.spender)],
  }),
  approvalFree: ['nonce'],
}
