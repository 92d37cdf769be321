import type { KindSpec } from './KindSpec.js'
import { lower, tokenFacts } from './spendHelpers.js'

/**
 * x402 auth-capture: `amount` moves into the escrow when the operator authorizes; the operator may then capture up
 * to it to `receiver` (a fee of `minFeeBps`–`maxFeeBps` to `feeReceiver`) or void it. The authorized amount counts when
 * signed; a void, refund or reclaim gives nothing back by itself (the host cannot prove it): an owner CreditBudget.
 */
export const authCaptureKind: KindSpec<'auth_capture'> = {
  describe: (a) => `x402 auth-capture: authorize ${a.amount} of ${a.asset} to ${a.receiver} (fee ${a.minFeeBps === undefined ? '≤ ' : `${a.minFeeBps}–`}${a.maxFeeBps} bps to ${a.feeReceiver}), captured by ${a.operator} until ${a.captureDeadline} through escrow ${a.escrow} on chain ${a.chainId}`,
  facts: (a) => ({
    ...tokenFacts(a, a.receiver, 'authorization'),
    payees: a.maxFeeBps > 0 ? [lower(a.receiver), lower(a.feeReceiver)] : [lower(a.receiver)],
    facilitators: [lower(a.operator)],
    escrows: [lower(a.escrow)],
    validFrom: a.validAfter,
    validUntil: a.validBefore,
  }),
  approvalFree: ['nonce', 'salt', 'validAfter', 'validBefore'],
}
