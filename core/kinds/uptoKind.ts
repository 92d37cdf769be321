import { X402_UPTO_PERMIT2_PROXY } from '../decode/knownContracts.js'
import type { KindSpec } from './KindSpec.js'
import { lower, secondsOrNull, tokenFacts } from './spendHelpers.js'

/**
 * x402 upto: a Permit2 witness transfer to the canonical upto proxy. The
 * witness's `facilitator` may settle any amount up to `amount` to `payTo`,
 * once, from `validAfter` until `deadline`: the maximum counts when signed.
 */
export const uptoKind: KindSpec<'upto'> = {
  describe: (a) => `x402 upto: at most ${a.amount} of ${a.asset} to ${a.payTo}, settled by ${a.facilitator}, on chain ${a.chainId} until ${a.deadline}`,
  facts: (a) => ({
    ...tokenFacts(a, a.payTo, 'authorization'),
    // The upto proxy pulls the funds (as Permit2 transfers list their spender); the facilitator chooses how much.
    spenders: [X402_UPTO_PERMIT2_PROXY],
    facilitators: [lower(a.facilitator)],
    validFrom: secondsOrNull(a.validAfter),
    validUntil: secondsOrNull(a.deadline),
  }),
  approvalFree: ['nonce', 'deadline', 'validAfter'],
}
