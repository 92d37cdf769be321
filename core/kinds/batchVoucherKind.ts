import type { KindSpec } from './KindSpec.js'
import { emptyFacts, lower } from './spendHelpers.js'

/**
 * x402 batch-settlement voucher: `receiver` may claim up to the running `total` from the channel. What it adds is
 * the increase over the highest total the enclave already signed for the channel (`signedBefore`, bound from the
 * ledger in the writer): that increase is the spend (per-tx caps and windows apply to it); a total that does not
 * increase adds nothing. A voucher has no expiry: it is money until the channel is claimed or closed.
 */
export const batchVoucherKind: KindSpec<'batch_voucher'> = {
  describe: (a) => `x402 batch-settlement voucher: running total ${a.total} (signed before ${a.signedBefore}) of ${a.asset} in channel ${a.channelId} to ${a.receiver} on chain ${a.chainId}`,
  facts: (a) => {
    const [total, before] = [BigInt(a.total), BigInt(a.signedBefore)]
    return {
      ...emptyFacts(a.chainId),
      spends: [{ chainId: a.chainId, asset: lower(a.asset), amount: total > before ? total - before : 0n, to: lower(a.receiver), role: 'authorization' }],
      tokens: [lower(a.asset)],
      payees: [lower(a.receiver)],
      escrows: [lower(a.escrow)],
      channel: { id: a.channelId, chainId: a.chainId, asset: lower(a.asset), lock: 0n, total, signedBefore: before },
    }
  },
  approvalFree: ['signedBefore'],
  bind: (a, ledger) => ({ ...a, signedBefore: (ledger.channel(a.channelId)?.signed ?? 0n).toString() }),
}
