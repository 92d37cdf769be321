import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { encodePaymentRequiredHeader } from '@x402/core/http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createPayingFetch } from '../../agent/createPayingFetch.js'
import { CHAIN_ID, MERCHANT, TOKEN, TOKEN_ENTRY, auditEntries, paymentPolicy } from '../helpers/agentClient.js'
import { stackWithAgentPerFile } from '../helpers/stackWithAgentPerFile.js'

const PRICE = 1_000n
type Mode = 'again' | 'cut' | 'error' | 'ok'

/**
 * Attack: a malicious x402 merchant takes the payment header and then claims it never arrived — it answers the paid
 * retry with another 402 ("payment failed"), cuts the connection, or answers 500 — hoping the paying fetch (its
 * x402 client or bursar's resend logic) signs a second authorization it can settle too. createPayingFetch must sign
 * exactly one authorization per call: one `sign_allowed` entry, one payment header seen by the merchant; what the
 * agent's code does next is its own call (x402's payment-identifier is the merchant-side answer, not wired yet).
 */
describe('adversarial: a merchant refuses the paid retry to get paid twice', () => {
  let merchant: Server
  let url = ''
  let mode: Mode = 'again'
  const paid: string[] = []

  const s = stackWithAgentPerFile(paymentPolicy({ perTx: PRICE.toString(), rolling24h: (PRICE * 100n).toString() }))
  beforeAll(async () => {
    merchant = createServer((req: IncomingMessage, res: ServerResponse) => {
      const header = req.headers['payment-signature'] ?? req.headers['x-payment']
      const required = (error: string) =>
        encodePaymentRequiredHeader({
          x402Version: 2,
          error,
          resource: { url: `${url}${req.url}`, description: 'data', mimeType: 'application/json' },
          accepts: [
            {
              scheme: 'exact',
              network: `eip155:${CHAIN_ID}`,
              asset: TOKEN,
              amount: PRICE.toString(),
              payTo: MERCHANT,
              maxTimeoutSeconds: 300,
              extra: { name: TOKEN_ENTRY.name, version: TOKEN_ENTRY.version },
            },
          ],
        } as never)
      if (!header) {
        res.writeHead(402, { 'content-type': 'application/json', 'PAYMENT-REQUIRED': required('payment required') }).end('{}')
        return
      }
      paid.push(String(header))
      if (mode === 'cut') return void req.socket.destroy()
      if (mode === 'error') return void res.writeHead(500).end('oops')
      if (mode === 'again') return void res.writeHead(402, { 'content-type': 'application/json', 'PAYMENT-REQUIRED': required('payment verification failed') }).end('{}')
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}')
    })
    await new Promise<void>((r) => merchant.listen(0, '127.0.0.1', r))
    url = `http://127.0.0.1:${(merchant.address() as AddressInfo).port}`
  })
  afterAll(async () => {
    merchant?.closeAllConnections()
    await new Promise((r) => merchant?.close(r))
  })

  const allowed = async () =>
    (await auditEntries(s.stack.url, s.owner, { agent: s.agentKey.agentId })).filter((e) => e.event === 'sign_allowed').length

  it.each<[Mode, string]>([
    ['again', 'another 402 ("payment verification failed")'],
    ['cut', 'a cut connection'],
    ['error', 'HTTP 500'],
  ])('paid retry answered with %s (%s): one signature, one payment header', async (m) => {
    mode = m
    const pay = createPayingFetch({ host: s.stack.url, agentKey: s.agentKey, wallet: s.wallet, timeoutMs: 10_000 })
    const before = await allowed()
    const sentBefore = paid.length
    const outcome = await pay(`${url}/data`).then(
      (r) => r.status,
      (e: unknown) => (e instanceof Error ? e.constructor.name : 'thrown'),
    )
    if (m === 'again') expect(outcome).toBe(402)
    if (m === 'error') expect(outcome).toBe(500)
    if (m === 'cut') expect(typeof outcome).toBe('string')
    expect(paid.length - sentBefore).toBe(1)
    expect((await allowed()) - before).toBe(1)
  }, 60_000)

  it('honest merchant: paid once, 200', async () => {
    mode = 'ok'
    const pay = createPayingFetch({ host: s.stack.url, agentKey: s.agentKey, wallet: s.wallet })
    const before = await allowed()
    const res = await pay(`${url}/data`)
    expect(res.status).toBe(200)
    expect((await allowed()) - before).toBe(1)
  }, 60_000)
})
