import type { x402Facilitator } from '@x402/core/facilitator'
import { decodePaymentSignatureHeader, encodePaymentResponseHeader } from '@x402/core/http'
import type { PaymentPayload, PaymentRequirements } from '@x402/core/types'
import type { Request, RequestHandler, Response } from 'express'

/**
 * Dev-chain fixture: a legacy x402 v1 paywall (JSON 402 body with
 * `accepts[].maxAmountRequired`, `X-PAYMENT` request header,
 * `X-PAYMENT-RESPONSE` answer). The reference resource server speaks v2 only,
 * so this thin handler frames v1 and delegates verify/settle to the
 * reference facilitator's v1 scheme.
 */
export type V1PaymentHandlerParameters = {
  facilitator: x402Facilitator
  /** v1 network name, e.g. 'base-sepolia'. */
  network: string
  asset: string
  payTo: string
  amount: string
  extra: { name: string; version: string }
  body: (req: Request) => unknown
}

/** Express handler that charges one v1 `exact` payment per request, verified and settled by the local facilitator. */
export function v1PaymentHandler(params: V1PaymentHandlerParameters): RequestHandler {
  return async (req: Request, res: Response) => {
    const requirements = {
      scheme: 'exact',
      network: params.network,
      maxAmountRequired: params.amount,
      resource: `${req.protocol}://${req.get('host')}${req.originalUrl}`,
      description: 'bursar devchain v1 resource',
      mimeType: 'application/json',
      payTo: params.payTo,
      maxTimeoutSeconds: 300,
      asset: params.asset,
      extra: params.extra,
    }
    const refuse = (error: string) => res.status(402).json({ x402Version: 1, error, accepts: [requirements] })
    const header = req.get('X-PAYMENT')
    if (!header) return void refuse('X-PAYMENT header is required')

    let payload: PaymentPayload
    try {
      payload = decodePaymentSignatureHeader(header)
    } catch {
      return void refuse('invalid X-PAYMENT header')
    }
    // v1 requirements travel through the facilitator's version-agnostic API.
    const reqs = requirements as unknown as PaymentRequirements
    const verdict = await params.facilitator.verify(payload, reqs)
    if (!verdict.isValid) return void refuse(verdict.invalidReason ?? 'invalid payment')
    const settled = await params.facilitator.settle(payload, reqs)
    if (!settled.success) return void refuse(settled.errorReason ?? 'settlement failed')
    res.setHeader('X-PAYMENT-RESPONSE', encodePaymentResponseHeader(settled))
    res.status(200).json(params.body(req))
  }
}
