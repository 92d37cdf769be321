import type { PaymentRequirements } from '@x402/core/types'
import type { AgentRequestContext } from './requestSignature.js'

/** x402 requirements as the agent request's advisory context wants them (a v1 `maxAmountRequired` read as amount). */
export function toRequirementsJson(r: PaymentRequirements): NonNullable<AgentRequestContext['requirements']> {
  const v1 = r as PaymentRequirements & { maxAmountRequired?: string }
  return {
    scheme: r.scheme,
    network: r.network,
    asset: r.asset,
    amount: r.amount ?? v1.maxAmountRequired ?? '',
    payTo: r.payTo,
    ...(typeof r.maxTimeoutSeconds === 'number' ? { maxTimeoutSeconds: r.maxTimeoutSeconds } : {}),
    ...(r.extra ? { extra: r.extra } : {}),
  }
}
