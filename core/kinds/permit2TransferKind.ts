import type { KindSpec } from './KindSpec.js'
import { emptyFacts, lower, secondsOrNull } from './spendHelpers.js'

/**
 * Permit2 signature transfer: `spender` may move `amount` of the token once,
 * until `deadline`. Through an x402 Permit2 proxy the witness fixes the
 * recipient (`payTo`); otherwise the spender chooses it and is the payee.
 */
export const permit2TransferKind: KindSpec<'permit2_transfer'> = {
  kind: 'permit2_transfer',
  describe: (a) =>
    `Permit2 ${a.primaryType}: ${a.spender} may move ${a.amount} of ${a.asset}${a.payTo ? ` to ${a.payTo}` : ''} on chain ${a.chainId} until ${a.deadline}`,
  facts: (a) => {
    const to = lower(a.payTo ?? a.spender)
    return {
      ...emptyFacts(a.chainId),
      spends: [{ chainId: a.chainId, asset: lower(a.asset), amount: BigInt(a.amount), to, role: 'authorization' }],
      tokens: [lower(a.asset)],
      payees: [to],
      spenders: [lower(a.spender)],
      validFrom: a.witness?.fields.validAfter !== undefined ? secondsOrNull(a.witness.fields.validAfter) : null,
      validUntil: secondsOrNull(a.deadline),
    }
  },
  approvalFree: ['nonce', 'deadline'],
}
