import { encodePaymentRequiredHeader } from '@x402/core/http'
import type { PaymentRequirements } from '@x402/core/types'
import type { Hex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createPayingFetch } from './createPayingFetch.js'
import { generateAgentKey } from './generateAgentKey.js'
import { MOCK_RECEIPT_PUBLIC_KEY, type MockBursarHostReturnType, mockBursarHost } from './mockBursarHost.js'

const WALLET_KEY = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d' as Hex
const ASSET = '0x036CbD53842c5426634e7929541eC2318f3dCF7e'
const MERCHANT = '0x000000000000000000000000000000000000bEEF'
const FACILITATOR = '0x90F79bf6EB2c4f870365E785982E1f101E93b906'
const agentKey = { ...generateAgentKey(), receiptPublicKey: MOCK_RECEIPT_PUBLIC_KEY }

const offer = (scheme: 'exact' | 'upto'): PaymentRequirements => ({
  scheme,
  network: 'eip155:84532',
  asset: ASSET,
  amount: '1000',
  payTo: MERCHANT,
  maxTimeoutSeconds: 300,
  extra: scheme === 'upto' ? { assetTransferMethod: 'permit2', facilitatorAddress: FACILITATOR } : { name: 'USDC', version: '2' },
})

/** A resource that offers `accepts` and answers 200 to any paid retry (it only records which scheme was paid). */
function resource(accepts: PaymentRequirements[], paid: string[]): typeof fetch {
  return async (input, init) => {
    const req = new Request(input, init)
    const header = req.headers.get('PAYMENT-SIGNATURE')
    if (header) {
      paid.push((JSON.parse(Buffer.from(header, 'base64').toString()) as { accepted: { scheme: string } }).accepted.scheme)
      return new Response('{"ok":true}', { status: 200 })
    }
    const required = encodePaymentRequiredHeader({ x402Version: 2, resource: { url: req.url, description: '', mimeType: 'application/json' }, accepts })
    return new Response('{}', { status: 402, headers: { 'PAYMENT-REQUIRED': required } })
  }
}

describe('createPayingFetch: exact and upto registered, paid in the caller’s order of preference', () => {
  let host: MockBursarHostReturnType
  const wallet = privateKeyToAccount(WALLET_KEY).address

  beforeAll(async () => {
    host = await mockBursarHost({ agentPublicKeys: [agentKey.publicKey], walletKey: WALLET_KEY })
  })
  afterAll(async () => {
    await host?.stop()
  })

  const payWith = async (accepts: PaymentRequirements[], schemes?: ('exact' | 'upto')[]) => {
    const paid: string[] = []
    const pay = createPayingFetch({ host: host.url, agentKey, wallet, fetch: resource(accepts, paid), ...(schemes ? { schemes } : {}) })
    const res = await pay('http://127.0.0.1:1/paid')
    return { status: res.status, paid, signed: host.requests.at(-1)?.request }
  }

  it('an upto-only 402 is paid with the reference upto client: a Permit2 witness transfer to the upto proxy naming the facilitator', async () => {
    const r = await payWith([offer('upto')])
    expect(r).toMatchObject({ status: 200, paid: ['upto'] })
    expect(r.signed?.context?.requirements).toMatchObject({ scheme: 'upto', amount: '1000' })
    if (r.signed?.op !== 'signTypedData') throw new Error('expected typed data')
    expect(r.signed.typedData.primaryType).toBe('PermitWitnessTransferFrom')
    expect(r.signed.typedData.message).toMatchObject({ spender: '0x4020A4f3b7b90ccA423B9fabCc0CE57C6C240002', witness: { to: MERCHANT, facilitator: FACILITATOR } })
  })

  it('both offered: exact by default, upto first when the caller prefers it', async () => {
    expect((await payWith([offer('upto'), offer('exact')])).paid).toEqual(['exact'])
    expect((await payWith([offer('exact'), offer('upto')], ['upto', 'exact'])).paid).toEqual(['upto'])
  })

  it('a scheme the caller left out is never paid', async () => {
    await expect(payWith([offer('upto')], ['exact'])).rejects.toThrow(/No network\/scheme registered/)
  })
})
