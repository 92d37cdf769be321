import type { KindSpec } from './KindSpec.js'
import { emptyFacts, lower } from './spendHelpers.js'

/** EIP-3009 authorization (x402 exact): `amount` to `payTo`, money from validAfter until validBefore. */
export const eip3009Kind: KindSpec<'eip3009'> = {
  kind: 'eip3009',
  describe: (a) => `${a.primaryType} ${a.amount} of ${a.asset} to ${a.payTo} on chain ${a.chainId}, valid ${a.validAfter}–${a.validBefore}`,
  facts: (a) => ({
    ...emptyFacts(a.chainId),
    spends: [{ chainId: a.chainId, asset: lower(a.asset), amount: BigInt(a.amount), to: lower(a.payTo), role: 'authorization' }],
    tokens: [lower(a.asset)],
    payees: [lower(a.payTo)],
    validFrom: a.validAfter,
    validUntil: a.validBefore,
  }),
  approvalFree: ['nonce', 'validAfter', 'validBefore'],
}
