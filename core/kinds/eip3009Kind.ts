import type { KindSpec } from './KindSpec.js'
import { tokenFacts } from './spendHelpers.js'

/** EIP-3009 authorization (x402 exact): `amount` to `payTo`, money from validAfter until validBefore. */
export const eip3009Kind: KindSpec<'eip3009'> = {
  describe: (a) => `${a.primaryType} ${a.amount} of ${a.asset} to ${a.payTo} on chain ${a.chainId}, valid ${a.validAfter}–${a.validBefore}`,
  facts: (a) => ({ ...tokenFacts(a, a.payTo, 'authorization'), validFrom: a.validAfter, validUntil: a.validBefore }),
  approvalFree: ['nonce', 'validAfter', 'validBefore'],
}
