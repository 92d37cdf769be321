import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { encodePaymentRequiredHeader } from '@x402/core/http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createPayingFetch } from '../../agent/createPayingFetch.js'
import { CHAIN_ID, MERCHANT, type StackWithAgent, TOKEN, TOKEN_ENTRY, auditEntries, paymentPolicy, stackWithAgent, waitAgentFloor } from '../helpers/agentClient.js'

const PRICE = 1_000n
const MiB = 2 ** 20
/** What the balloon merchant sends at most (so an agent that reads it all still ends). */
const FLOOD = 256 * MiB

/**
 * Attack (rt42, a malicious x402 merchant against the agent): @x402/fetch reads a 402's whole body (`response.text()`,
 * even for v2, whose requirements are in the PAYMENT-REQUIRED header) with no bound. A merchant answering 402 with a
 * body without end (here 256 MiB, 1 MiB a write, as fast as the agent takes it) grew the paying agent's memory by all
 * of it (in life: until the process is killed, or the caller's own timeout, which x402 fetches seldom set). Safe
 * behaviour: at most 8 MiB of a 402 is read, then `response_invalid`, nothing signed, the connection let go; an
 * honest merchant (the same 402, a small body) is paid once. Real stack (sim enclave + host) for the agent's host.
 * Counted, not timed: the bytes the merchant got into the connection before the agent left.
 */
describe('adversarial: a merchant balloons its 402 body (rt42)', () => {
  let s: StackWithAgent
  let merchant: Server
  let url = ''
  let balloon = true
  let again = false
  let [sent, most] = [0, 0]

  beforeAll(async () => {
    s = await stackWithAgent(paymentPolicy({ perTx: PRICE.toString(), rolling24h: (PRICE * 100n).toString() }))
    merchant = createServer((req: IncomingMessage, res: ServerResponse) => {
      req.resume()
      if (req.headers['payment-signature'] ?? req.headers['x-payment']) {
        if (!again) return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}')
      }
      const required = encodePaymentRequiredHeader({
        x402Version: 2,
        error: 'payment required',
        resource: { url: `${url}${req.url}`, description: 'data', mimeType: 'application/json' },
        accepts: [{ scheme: 'exact', network: `eip155:${CHAIN_ID}`, asset: TOKEN, amount: PRICE.toString(), payTo: MERCHANT, maxTimeoutSeconds: 300, extra: { name: TOKEN_ENTRY.name, version: TOKEN_ENTRY.version } }],
      } as never)
      res.writeHead(402, { 'content-type': 'application/json', 'PAYMENT-REQUIRED': required })
      if (again && (req.headers['payment-signature'] ?? req.headers['x-payment'])) return void res.end('{"again":true}')
      if (!balloon) return void res.end('{}')
      const from = sent
      let open = true
      res.on('close', () => ((open = false), (most = Math.max(most, sent - from))))
      const piece = Buffer.alloc(MiB, 0x20) // JSON whitespace: the body stays `{ … }` when it ends
      const more = () => {
        while (open && sent - from < FLOOD) {
          sent += piece.length
          if (!res.write(piece)) return void res.once('drain', more)
        }
        if (open) res.end('{}')
      }
      more()
    })
    await new Promise<void>((r) => merchant.listen(0, '127.0.0.1', r))
    url = `http://127.0.0.1:${(merchant.address() as AddressInfo).port}`
    await waitAgentFloor()
  }, 60_000)
  afterAll(async () => {
    merchant?.closeAllConnections()
    await new Promise((r) => merchant?.close(r))
    await s?.stack.stop()
  })

  const allowed = async () => (await auditEntries(s.stack.url, s.owner, { agent: s.agentKey.agentId })).filter((e) => e.event === 'sign_allowed').length

  it('a 402 with a body without end: response_invalid after about 8 MiB, nothing signed', async () => {
    ;[balloon, again] = [true, false]
    const pay = createPayingFetch({ host: s.stack.url, agentKey: s.agentKey, wallet: s.wallet, timeoutMs: 10_000 })
    const before = await allowed()
    const code = await pay(`${url}/data`).then(
      (r) => `resolved ${r.status}`,
      (e: { code?: string; name?: string }) => e.code ?? `untyped ${e.name}`,
    )
    expect(code).toBe('response_invalid')
    await expect.poll(() => most, { timeout: 30_000, interval: 20 }).toBeGreaterThan(0) // the merchant saw the agent go
    expect(most).toBeLessThan(64 * MiB) // the old fetch read all 256 MiB (then paid: the header held the requirements)
    expect((await allowed()) - before).toBe(0)
  }, 120_000)

  it('a paid retry answered with another 402 reaches the caller as fetch gave it: status, url, body (one signature)', async () => {
    ;[balloon, again] = [false, true]
    const pay = createPayingFetch({ host: s.stack.url, agentKey: s.agentKey, wallet: s.wallet })
    const before = await allowed()
    const res = await pay(`${url}/data`)
    expect({ status: res.status, url: res.url, body: await res.text() }).toEqual({ status: 402, url: `${url}/data`, body: '{"again":true}' })
    expect((await allowed()) - before).toBe(1)
  }, 60_000)

  it('honest merchant (the same 402, a small body): paid once, 200', async () => {
    ;[balloon, again] = [false, false]
    const pay = createPayingFetch({ host: s.stack.url, agentKey: s.agentKey, wallet: s.wallet })
    const before = await allowed()
    const res = await pay(`${url}/data`)
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ ok: true })
    expect((await allowed()) - before).toBe(1)
  }, 60_000)
})
