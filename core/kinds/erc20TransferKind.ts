import type { KindSpec } from './KindSpec.js'
import { emptyFacts, feeSpend, lower } from './spendHelpers.js'

/** ERC-20 transfer / transferFrom transaction: the amount to `payTo` plus the worst-case fee; valid until mined. */
export const erc20TransferKind: KindSpec<'erc20_transfer'> = {
  kind: 'erc20_transfer',
  describe: (a) => `${a.method} ${a.amount} of ${a.asset} to ${a.payTo} on chain ${a.chainId} (nonce ${a.nonce}, gas ${a.gas} × ${a.maxFeePerGas})`,
  facts: (a) => ({
    ...emptyFacts(a.chainId),
    spends: [{ chainId: a.chainId, asset: lower(a.asset), amount: BigInt(a.amount), to: lower(a.payTo), role: 'transfer' }, feeSpend(a)],
    tokens: [lower(a.asset)],
    payees: [lower(a.payTo)],
  }),
  approvalFree: ['nonce'],
}
