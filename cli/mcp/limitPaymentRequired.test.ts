import { decodePaymentRequiredHeader, encodePaymentRequiredHeader } from '@x402/core/http'
import type { PaymentRequired } from '@x402/core/types'
import { describe, expect, it } from 'vitest'
import { MaxAmountExceededError, limitPaymentRequired } from './limitPaymentRequired.js'

const option = (amount: string) => ({ scheme: 'exact', network: 'eip155:84532', asset: '0xa', amount, payTo: '0xb', maxTimeoutSeconds: 60, extra: {} })
const required = (...amounts: string[]) =>
  ({ x402Version: 2, resource: { url: 'http://x/paid' }, accepts: amounts.map(option) }) as unknown as PaymentRequired
const v2 = (r: PaymentRequired) => new Response('{}', { status: 402, headers: { 'PAYMENT-REQUIRED': encodePaymentRequiredHeader(r) } })

describe('limitPaymentRequired (fetch_paid max_amount)', () => {
  it('keeps only the options at or below the ceiling (v2 header and v1 body)', async () => {
    const out = await limitPaymentRequired(v2(required('500', '100', '101')), 100n)
    expect(decodePaymentRequiredHeader(out.headers.get('PAYMENT-REQUIRED')!).accepts.map((a) => a.amount)).toEqual(['100'])
    const v1 = new Response(JSON.stringify({ x402Version: 1, accepts: [{ maxAmountRequired: '7' }, { maxAmountRequired: '9' }] }), { status: 402 })
    expect(((await (await limitPaymentRequired(v1, 8n)).json()) as { accepts: unknown[] }).accepts).toEqual([{ maxAmountRequired: '7' }])
  })

  it('refuses when every option is above the ceiling, or none has a readable price', async () => {
    await expect(limitPaymentRequired(v2(required('500', '101')), 100n)).rejects.toBeInstanceOf(MaxAmountExceededError)
    await expect(limitPaymentRequired(v2(required('abc')), 100n)).rejects.toMatchObject({ code: 'max_amount_exceeded' })
  })
})
