import type { KindSpec } from './KindSpec.js'
import { lower, secondsOrNull, tokenFacts } from './spendHelpers.js'

/**
 * Permit2 signature transfer: `spender` may move `amount` of the token once,
 * until `deadline`. Through an x402 Permit2 proxy the witness fixes the
 * recipient (`payTo`); otherwise the spender chooses it and is the payee.
 */
export const permit2TransferKind: KindSpec<'permit2_transfer'> = {
  describe: (a) =>
    `Permit2 ${a.primaryType}: ${a.spender} may move ${a.amount} of ${a.asset}${a.payTo ? ` to ${a.payTo}` : ''} on chain ${a.chainId} until ${a.deadline}`,
  facts: (a) => ({
    ...tokenFacts(a, a.payTo ?? a.spender, 'authorization'),
    spenders: [lower(a.spender)],
    validFrom: a.witness?.fields.validAfter !== undefined ? secondsOrNull(a.witness.fields.validAfter) : null,
    validUntil: secondsOrNull(a.deadline),
  }),
  approvalFree: ['nonce', 'deadline'],
}
