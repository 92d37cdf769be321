import type { KindSpec } from './KindSpec.js'
import { emptyFacts, feeSpend, lower } from './spendHelpers.js'

/** A call to a contract that is neither a known token action nor Permit2: its native value and fee count. */
export const contractCallKind: KindSpec<'contract_call'> = {
  describe: (a) => `call ${a.to} ${a.selector} (${(a.data.length - 2) / 2} bytes) with ${a.value} wei on chain ${a.chainId} (nonce ${a.nonce}, gas ${a.gas} × ${a.maxFeePerGas})`,
  facts: (a) => ({
    ...emptyFacts(a.chainId),
    spends: [{ chainId: a.chainId, asset: 'native', amount: BigInt(a.value), to: lower(a.to), role: 'value' }, feeSpend(a)],
    payees: BigInt(a.value) > 0n ? [lower(a.to)] : [],
    contract: { to: lower(a.to), selector: a.selector },
  }),
  approvalFree: ['nonce'],
}
