import { decodePaymentRequiredHeader, encodePaymentRequiredHeader } from '@x402/core/http'
import { bounded402Text } from '../../agent/bounded402Text.js'
import { BaseError } from '../../shared/errors/base.js'

/** The agent's own ceiling was below every price offered; nothing was signed. */
export class MaxAmountExceededError extends BaseError {
  override name = 'MaxAmountExceededError'
  constructor(message: string) {
    super('max_amount_exceeded', message)
  }
}

type Accept = { amount?: string; maxAmountRequired?: string }
const price = (a: Accept) => {
  try {
    return BigInt(a.amount ?? a.maxAmountRequired ?? 'x')
  } catch {
    return null
  }
}

/**
 * Narrows a 402 to the payment options at or below `maxAmount` (base units),
 * before the x402 client picks one, so nothing above the agent's ceiling is
 * ever sent to the enclave; throws MaxAmountExceededError when none is left.
 * Only narrows: the enclave's policy still decides what is signed.
 */
export async function limitPaymentRequired(res: Response, maxAmount: bigint): Promise<Response> {
  const header = res.headers.get('PAYMENT-REQUIRED')
  const affordable = (accepts: Accept[]) => accepts.filter((a) => {
    const p = price(a)
    return p !== null && p <= maxAmount
  })
  const refuse = (accepts: Accept[]) =>
    new MaxAmountExceededError(`cheapest price ${accepts.map(price).filter((p) => p !== null).sort((a, b) => (a! < b! ? -1 : 1))[0] ?? '?'} is above max_amount ${maxAmount}`)
  if (header) {
    const required = decodePaymentRequiredHeader(header)
    const ok = affordable(required.accepts as Accept[])
    if (ok.length === 0) throw refuse(required.accepts as Accept[])
    const headers = new Headers(res.headers)
    headers.set('PAYMENT-REQUIRED', encodePaymentRequiredHeader({ ...required, accepts: ok as typeof required.accepts }))
    return new Response(await bounded402Text(res), { status: res.status, statusText: res.statusText, headers })
  }
  const text = await bounded402Text(res)
  let body: { accepts?: Accept[] } | null = null
  try {
    body = JSON.parse(text) as { accepts?: Accept[] }
  } catch {}
  if (body && Array.isArray(body.accepts)) {
    const ok = affordable(body.accepts)
    if (ok.length === 0) throw refuse(body.accepts)
    return new Response(JSON.stringify({ ...body, accepts: ok }), { status: res.status, statusText: res.statusText, headers: res.headers })
  }
  return new Response(text, { status: res.status, statusText: res.statusText, headers: res.headers })
}
