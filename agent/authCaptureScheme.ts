import type { PaymentPayloadContext, PaymentPayloadResult, PaymentRequirements } from '@x402/core/types'
import { AuthCaptureEvmScheme } from '@x402/evm/auth-capture/client'
import type { Hex } from 'viem'
import type { LocalAccount } from 'viem/accounts'
import { DeferredSigner, type WithBinding } from './batchSettlementScheme.js'

type Extra = { captureAuthorizer: Hex; feeRecipient: Hex; captureDeadline: number; refundDeadline: number; minFeeBps: number; maxFeeBps: number }
type Payload = { authorization?: { validBefore: string }; permit2Authorization?: { deadline: string }; signature: Hex; salt: Hex }

/**
 * x402 `auth-capture` paid through bursar: the reference client (@x402/evm) builds the PaymentInfo and its EIP-3009
 * (or Permit2) authorization to the escrow's collector; the enclave signs it with the PaymentInfo beside it (the nonce commits to
 * it), so the policy sees the receiver, the operator, the fee receiver and the deadlines. The client draws the salt
 * itself, so its signing call is answered with a placeholder and the real signature is made afterwards.
 */
export class BursarAuthCaptureScheme extends AuthCaptureEvmScheme {
  private readonly deferred: DeferredSigner

  constructor(
    account: LocalAccount,
    private readonly bind: WithBinding,
  ) {
    const deferred = new DeferredSigner(account)
    super(deferred.signer as never)
    this.deferred = deferred
  }

  override async createPaymentPayload(x402Version: number, r: PaymentRequirements, context?: PaymentPayloadContext): Promise<PaymentPayloadResult> {
    const result = await super.createPaymentPayload(x402Version, r, context)
    const p = result.payload as unknown as Payload
    try {
      const e = r.extra as unknown as Extra
      const authCapture = {
        operator: e.captureAuthorizer,
        receiver: r.payTo,
        token: r.asset,
        maxAmount: r.amount,
        // EIP-3009 validBefore or the Permit2 deadline: both are the PaymentInfo's preApprovalExpiry.
        preApprovalExpiry: Number(p.authorization?.validBefore ?? p.permit2Authorization?.deadline),
        authorizationExpiry: e.captureDeadline,
        refundExpiry: e.refundDeadline,
        minFeeBps: e.minFeeBps,
        maxFeeBps: e.maxFeeBps,
        feeReceiver: e.feeRecipient,
        salt: p.salt,
      }
      p.signature = await this.bind({ authCapture }, () => this.deferred.sign(p.signature))
    } finally {
      this.deferred.forget([p.signature])
    }
    return result
  }
}
