import { randomBytes, sign } from 'node:crypto'
import { type Hex, verifyTypedData } from 'viem'
import { describe, expect, it } from 'vitest'
import { ed25519PrivateKeyFromSeed } from '../../agent/ed25519PrivateKeyFromSeed.js'
import { MERCHANT, eip3009, eip3009TypedData, paymentPolicy, postSign } from '../helpers/agentClient.js'
import { stackWithAgentPerFile } from '../helpers/stackWithAgentPerFile.js'

/**
 * Attack: the enclave parses the hot request shape (signTypedData with the SDKs' x402 context) by direct checks
 * instead of zod (cpu38, typedDataRequestFast). An agent signs requests one step off that shape — a field of the
 * wrong type or out of bounds, a key the schema does not have, a number JSON makes Infinity — hoping the fast
 * path takes what the schema refuses. Each is `request_invalid` (zod's refusal), nothing is signed or counted;
 * the honest request in the same shape signs.
 */
describe('adversarial: an agent slips a request past the fast request parse', () => {
  const send = (mutate: (request: Record<string, any>) => void, raw?: (text: string) => string) => { // eslint-disable-line @typescript-eslint/no-explicit-any
    const issuedAt = Date.now()
    const request: Record<string, any> = { // eslint-disable-line @typescript-eslint/no-explicit-any
      v: 1, agentId: s.agentKey.agentId, wallet: s.wallet, nonce: randomBytes(16).toString('hex'), issuedAt, expiresAt: issuedAt + 30_000,
      ...structuredClone(eip3009({ wallet: s.wallet, value: 10n })),
      context: {
        resourceUrl: 'https://api.example.com/paid', reason: 'x402 payment',
        requirements: { scheme: 'exact', network: 'eip155:84532', asset: '0x036CbD53842c5426634e7929541eC2318f3dCF7e', amount: '10', payTo: MERCHANT, maxTimeoutSeconds: 300, extra: { name: 'USDC', version: '2' } },
      },
    }
    mutate(request)
    const text = (raw ?? ((t) => t))(JSON.stringify(request))
    const signature = sign(null, Buffer.from(text, 'utf8'), ed25519PrivateKeyFromSeed(s.agentKey.privateKey)).toString('hex')
    return { request, reply: postSign(s.stack.url, { request: text, signature }) }
  }

  const s = stackWithAgentPerFile(paymentPolicy({ perTx: '1000', rolling24h: '1000000' }))

  it('one step off the hot shape: request_invalid, no signature', async () => {
    const attacks: [string, (r: Record<string, any>) => void, ((t: string) => string)?][] = [ // eslint-disable-line @typescript-eslint/no-explicit-any
      ['a fractional chain id', (r) => (r.typedData.domain.chainId = 84532.5)],
      ['a lower-case 0X address', (r) => (r.typedData.domain.verifyingContract = r.typedData.domain.verifyingContract.replace('0x', '0X'))],
      ['a type field with a third key', (r) => (r.typedData.types.TransferWithAuthorization[0].extra = 'x')],
      ['a reason past 280 characters', (r) => (r.context.reason = 'a'.repeat(281))],
      ['a context key the schema does not have', (r) => (r.context.note = 'x')],
      ['dryRun false (the schema takes only true)', (r) => (r.dryRun = false)],
      ['expiresAt past 2^53', (r) => (r.expiresAt = 2 ** 53 + 2)],
      ['requirements without payTo', (r) => delete r.context.requirements.payTo],
      ['maxTimeoutSeconds that JSON makes Infinity', () => {}, (t) => t.replace('"maxTimeoutSeconds":300', '"maxTimeoutSeconds":1e999')],
      ['an unknown top-level key', (r) => (r.memo = 'x')],
    ]
    for (const [what, mutate, raw] of attacks) {
      const { reply } = send(mutate, raw)
      const r = await reply
      expect(r.json.signature, what).toBeUndefined()
      expect([what, r.json.code]).toEqual([what, 'request_invalid'])
    }
    expect((await s.client.wallet(s.wallet)).pending).toEqual([])
  })

  it('honest: the same shape signs what viem verifies', async () => {
    const { request, reply } = send(() => {})
    const r = await reply
    expect(r.status, JSON.stringify(r.json)).toBe(200)
    const op = { op: 'signTypedData' as const, typedData: request.typedData }
    expect(await verifyTypedData({ address: s.wallet, ...eip3009TypedData(op as never), signature: r.json.signature as Hex })).toBe(true)
  })
})
