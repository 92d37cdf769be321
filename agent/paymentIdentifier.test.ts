import { mkdtempSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { PaymentPayload, PaymentRequired } from '@x402/core/types'
import { decodePaymentSignatureHeader, encodePaymentRequiredHeader } from '@x402/core/http'
import { declarePaymentIdentifierExtension, extractPaymentIdentifier, validatePaymentIdentifier } from '@x402/extensions/payment-identifier'
import { type Hex, recoverTypedDataAddress } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createPayingFetch } from './createPayingFetch.js'
import { PaymentIdConflictError, PolicyDeniedError, RequestOutcomeUnknownError } from './errors.js'
import { generateAgentKey } from './generateAgentKey.js'
import { MOCK_RECEIPT_PUBLIC_KEY, type MockBursarHostReturnType, mockBursarHost } from './mockBursarHost.js'
import { PaymentIdentifierStore } from './paymentIdentifier.js'

const payload = (n: number) => ({ x402Version: 2, payload: { n } }) as unknown as PaymentPayload

describe('PaymentIdentifierStore: one identifier, one payment', () => {
  it('the same purchase gets the first payload, concurrent retries included; create runs once', async () => {
    const store = new PaymentIdentifierStore()
    let calls = 0
    const create = async () => {
      calls++
      await new Promise((r) => setTimeout(r, 20))
      return payload(calls)
    }
    const all = await Promise.all(Array.from({ length: 50 }, () => store.once('pay_0123456789abcdef', 'fp', create)))
    expect(calls).toBe(1)
    expect(new Set(all).size).toBe(1)
    expect(await store.once('pay_0123456789abcdef', 'fp', create)).toBe(all[0])
    expect(calls).toBe(1)
  })

  it('another purchase under the identifier is refused payment_id_conflict, before create runs', async () => {
    const store = new PaymentIdentifierStore()
    await store.once('pay_0123456789abcdef', 'fp-a', async () => payload(1))
    let called = false
    const err = await store.once('pay_0123456789abcdef', 'fp-b', async () => ((called = true), payload(2))).catch((e) => e)
    expect(err).toBeInstanceOf(PaymentIdConflictError)
    expect(err).toMatchObject({ code: 'payment_id_conflict', paymentId: 'pay_0123456789abcdef' })
    expect(called).toBe(false)
  })

  it('a refusal (nothing signed) is forgotten; an unknown outcome pins the identifier and is rethrown', async () => {
    const store = new PaymentIdentifierStore()
    const denied = new PolicyDeniedError('policy_per_tx_cap_exceeded', 'over cap', {})
    await expect(store.once('pay_0123456789abcdef', 'fp', async () => Promise.reject(denied))).rejects.toBe(denied)
    expect(await store.once('pay_0123456789abcdef', 'fp', async () => payload(7))).toEqual(payload(7))

    const unknown = new RequestOutcomeUnknownError('no answer', { requestId: 'r1', expiresAt: 0, attempts: 3 })
    await expect(store.once('pay_fedcba9876543210', 'fp', async () => Promise.reject(new Error('wrapped', { cause: unknown })))).rejects.toThrow('wrapped')
    let called = false
    await expect(store.once('pay_fedcba9876543210', 'fp', async () => ((called = true), payload(8)))).rejects.toThrow('wrapped')
    expect(called).toBe(false)
  })

  it('with a file, a store opened after a restart knows paid and unknown identifiers (mode 0600)', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'bursar-payid-')), 'ids.jsonl')
    const first = new PaymentIdentifierStore({ file })
    await first.once('pay_file_0123456789abcdef', 'fp', async () => payload(1))
    const unknown = new RequestOutcomeUnknownError('no answer', { requestId: 'req-9', expiresAt: 123, attempts: 2 })
    await expect(first.once('pay_unknown_0123456789ab', 'fp', async () => Promise.reject(unknown))).rejects.toBe(unknown)
    await expect(first.once('pay_denied_0123456789abc', 'fp', async () => Promise.reject(new Error('refused')))).rejects.toThrow()
    expect(statSync(file).mode & 0o777).toBe(0o600)

    const restarted = new PaymentIdentifierStore({ file })
    let calls = 0
    const create = async () => ((calls += 1), payload(2))
    expect(await restarted.once('pay_file_0123456789abcdef', 'fp', create)).toEqual(payload(1))
    await expect(restarted.once('pay_file_0123456789abcdef', 'fp-other', create)).rejects.toBeInstanceOf(PaymentIdConflictError)
    const err = await restarted.once('pay_unknown_0123456789ab', 'fp', create).catch((e) => e)
    expect(err).toBeInstanceOf(RequestOutcomeUnknownError)
    expect(err).toMatchObject({ requestId: 'req-9', expiresAt: 123 })
    expect(calls).toBe(0)
    // The refused one was not written: a retry after the restart asks again.
    expect(await restarted.once('pay_denied_0123456789abc', 'fp', create)).toEqual(payload(2))
    expect(calls).toBe(1)
  })

  it('refuses identifiers outside the spec (16-128 of A-Z a-z 0-9 _ -) and stays bounded', async () => {
    const store = new PaymentIdentifierStore({ maxEntries: 3 })
    for (const bad of ['short', 'pay_has space_0123456789', 'x'.repeat(129)])
      await expect(store.once(bad, 'fp', async () => payload(0))).rejects.toMatchObject({ code: 'request_invalid' })
    for (let i = 0; i < 5; i++) await store.once(`pay_bounded_${i}_0123456789`, 'fp', async () => payload(i))
    // The oldest fell out: its identifier is new again.
    expect(await store.once('pay_bounded_0_0123456789', 'other', async () => payload(9))).toEqual(payload(9))
  })
})

describe('createPayingFetch with payment-identifier (mock bursar host, in-process 402 resource)', () => {
  const agentKey = { ...generateAgentKey(), receiptPublicKey: MOCK_RECEIPT_PUBLIC_KEY }
  const walletKey = generatePrivateKey()
  const wallet = privateKeyToAccount(walletKey).address
  let host: MockBursarHostReturnType
  let refuseNext = false
  beforeAll(async () => {
    host = await mockBursarHost({
      agentPublicKeys: [agentKey.publicKey],
      walletKey,
      decide: () => {
        if (!refuseNext) return undefined
        refuseNext = false
        return { status: 403, body: { code: 'policy_per_tx_cap_exceeded', message: 'over cap' } }
      },
    })
  })
  afterAll(async () => host?.stop())

  /** A resource that answers 402 (offering the extension or not) and 200 to any payment; records the payments. */
  const resource = (extensions: PaymentRequired['extensions'], amount = '1000') => {
    const paid: string[] = []
    const f: typeof fetch = async (input, init) => {
      const req = new Request(input, init)
      const header = req.headers.get('PAYMENT-SIGNATURE')
      if (header) return paid.push(header), new Response('{"ok":true}', { status: 200 })
      const required: PaymentRequired = {
        x402Version: 2,
        resource: { url: req.url },
        accepts: [
          {
            scheme: 'exact',
            network: 'eip155:84532',
            asset: '0x036CbD53842c5426634e7929541eC2318f3dCF7e',
            amount,
            payTo: '0x000000000000000000000000000000000000bEEF',
            maxTimeoutSeconds: 300,
            extra: { name: 'USD Coin', version: '2' },
          },
        ],
        ...(extensions ? { extensions } : {}),
      }
      return new Response('{}', { status: 402, headers: { 'PAYMENT-REQUIRED': encodePaymentRequiredHeader(required) } })
    }
    return { paid, f }
  }

  it('a server that requires an identifier gets a fresh valid one (checked by @x402/extensions) in the payload', async () => {
    const r = resource({ 'payment-identifier': declarePaymentIdentifierExtension(true) })
    const pay = createPayingFetch({ host: host.url, agentKey, wallet, fetch: r.f })
    expect((await pay('http://127.0.0.1:9/a')).status).toBe(200)
    expect((await pay('http://127.0.0.1:9/a')).status).toBe(200)
    const [p1, p2] = r.paid.map((h) => decodePaymentSignatureHeader(h))
    expect(validatePaymentIdentifier(p1!.extensions?.['payment-identifier'])).toEqual({ valid: true })
    expect(p1!.extensions?.['payment-identifier']).toMatchObject({ info: { required: true } })
    // Two calls without a paymentId are two purchases: two identifiers, two signatures.
    expect(extractPaymentIdentifier(p1!)).not.toBe(extractPaymentIdentifier(p2!))
    expect(p1!.payload.signature).not.toBe(p2!.payload.signature)
  })

  it('a server that does not offer it: no extension in the payload; the SDK still pays once per identifier', async () => {
    const r = resource(undefined)
    const pay = createPayingFetch({ host: host.url, agentKey, wallet, fetch: r.f })
    const n = host.requests.length
    for (let i = 0; i < 3; i++) expect((await pay('http://127.0.0.1:9/b', undefined, { paymentId: 'order_4711_0123456789' })).status).toBe(200)
    expect(host.requests.length).toBe(n + 1)
    expect(new Set(r.paid).size).toBe(1)
    const p = decodePaymentSignatureHeader(r.paid[0]!)
    expect(p.extensions?.['payment-identifier']).toBeUndefined()
    const a = p.payload.authorization as Record<string, string>
    const signer = await recoverTypedDataAddress({
      domain: { name: 'USD Coin', version: '2', chainId: 84532, verifyingContract: '0x036CbD53842c5426634e7929541eC2318f3dCF7e' },
      types: {
        TransferWithAuthorization: [
          { name: 'from', type: 'address' },
          { name: 'to', type: 'address' },
          { name: 'value', type: 'uint256' },
          { name: 'validAfter', type: 'uint256' },
          { name: 'validBefore', type: 'uint256' },
          { name: 'nonce', type: 'bytes32' },
        ],
      },
      primaryType: 'TransferWithAuthorization',
      message: {
        from: a.from as Hex,
        to: a.to as Hex,
        value: BigInt(a.value!),
        validAfter: BigInt(a.validAfter!),
        validBefore: BigInt(a.validBefore!),
        nonce: a.nonce as Hex,
      },
      signature: p.payload.signature as Hex,
    })
    expect(signer).toBe(wallet)
  })

  it('a refused first use is not remembered: the retry under the same identifier asks the enclave again', async () => {
    const r = resource({ 'payment-identifier': declarePaymentIdentifierExtension(false) })
    const pay = createPayingFetch({ host: host.url, agentKey, wallet, fetch: r.f })
    refuseNext = true
    const n = host.requests.length
    await expect(pay('http://127.0.0.1:9/c', undefined, { paymentId: 'pay_refused_0123456789' })).rejects.toBeInstanceOf(PolicyDeniedError)
    expect(r.paid.length).toBe(0)
    expect((await pay('http://127.0.0.1:9/c', undefined, { paymentId: 'pay_refused_0123456789' })).status).toBe(200)
    expect(host.requests.length).toBe(n + 2)
    expect(extractPaymentIdentifier(decodePaymentSignatureHeader(r.paid[0]!))).toBe('pay_refused_0123456789')
  })

  it('fetches sharing one store refuse the identifier for another purchase', async () => {
    const store = new PaymentIdentifierStore()
    const cheap = resource({ 'payment-identifier': declarePaymentIdentifierExtension(false) }, '1000')
    const dear = resource({ 'payment-identifier': declarePaymentIdentifierExtension(false) }, '2000')
    const a = createPayingFetch({ host: host.url, agentKey, wallet, fetch: cheap.f, paymentIdentifiers: store })
    const b = createPayingFetch({ host: host.url, agentKey, wallet, fetch: dear.f, paymentIdentifiers: store })
    expect((await a('http://127.0.0.1:9/d', undefined, { paymentId: 'pay_store_0123456789' })).status).toBe(200)
    const n = host.requests.length
    const err = await b('http://127.0.0.1:9/d', undefined, { paymentId: 'pay_store_0123456789' }).catch((e) => e)
    expect(err).toBeInstanceOf(PaymentIdConflictError)
    expect(host.requests.length).toBe(n)
    expect(dear.paid.length).toBe(0)
  })
})
