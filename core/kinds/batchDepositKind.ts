import type { KindSpec } from './KindSpec.js'
import { emptyFacts, lower } from './spendHelpers.js'

/**
 * x402 batch-settlement escrow deposit: `amount` moves into channel `channelId` (payer and voucher signer = the
 * wallet). It pays no one by itself — the receiver claims only what vouchers allow, and vouchers count when signed —
 * so it is not a spend: it counts against the policy's locked-funds budget (per channel and in total).
 */
export const batchDepositKind: KindSpec<'batch_deposit'> = {
  describe: (a) => `x402 batch-settlement deposit: lock ${a.amount} of ${a.asset} in channel ${a.channelId} to ${a.receiver} (escrow ${a.escrow}) on chain ${a.chainId}, valid ${a.validAfter}–${a.validBefore}`,
  facts: (a) => ({
    ...emptyFacts(a.chainId),
    tokens: [lower(a.asset)],
    payees: [lower(a.receiver)],
    escrows: [lower(a.escrow)],
    channel: { id: a.channelId, chainId: a.chainId, asset: lower(a.asset), lock: BigInt(a.amount), total: null, signedBefore: 0n },
    validFrom: a.validAfter,
    validUntil: a.validBefore,
  }),
  approvalFree: ['nonce', 'validAfter', 'validBefore'],
}
