import type { KindSpec } from './KindSpec.js'
import { secondsOrNull, tokenFacts } from './spendHelpers.js'

/** Permit2 PermitSingle: `spender` may pull up to `amount` of the token until `expiration` (0 = the submitting block). */
export const permit2AllowanceKind: KindSpec<'permit2_allowance'> = {
  describe: (a) => `Permit2 allowance: ${a.spender} may pull ${a.amount} of ${a.asset} on chain ${a.chainId} until ${a.expiration}`,
  facts: (a) => ({
    ...tokenFacts(a, a.spender, 'allowance'),
    // SECURITY: expiration 0 means "the block it is used in", so the signature's own deadline bounds it.
    validUntil: a.expiration === 0 ? secondsOrNull(a.sigDeadline) : a.expiration,
  }),
  approvalFree: [],
}
