import type { KindSpec } from './KindSpec.js'
import { emptyFacts, feeSpend, lower } from './spendHelpers.js'

/** Native coin transfer (empty calldata): the value to `payTo` plus the worst-case fee. */
export const nativeTransferKind: KindSpec<'native_transfer'> = {
  describe: (a) => `send ${a.amount} wei to ${a.payTo} on chain ${a.chainId} (nonce ${a.nonce}, gas ${a.gas} × ${a.maxFeePerGas})`,
  facts: (a) => ({
    ...emptyFacts(a.chainId),
    spends: [{ chainId: a.chainId, asset: 'native', amount: BigInt(a.amount), to: lower(a.payTo), role: 'value' }, feeSpend(a)],
    payees: [lower(a.payTo)],
  }),
  approvalFree: ['nonce'],
}
