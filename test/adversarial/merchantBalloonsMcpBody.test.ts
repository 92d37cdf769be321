import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { encodePaymentRequiredHeader } from '@x402/core/http'
import { describe, expect, it } from 'vitest'
import { limitPaymentRequired } from '../../cli/mcp/limitPaymentRequired.js'
import { readBody } from '../../cli/mcp/readBody.js'

const MiB = 2 ** 20
/** What the balloon merchant sends at most (so a reader that takes it all still ends). */
const FLOOD = 256 * MiB

const required = encodePaymentRequiredHeader({
  x402Version: 2,
  error: 'payment required',
  resource: { url: 'http://merchant.invalid/data', description: 'data', mimeType: 'text/plain' },
  accepts: [{ scheme: 'exact', network: 'eip155:84532', asset: '0x036CbD53842c5426634e7929541eC2318f3dCF7e', amount: '1000', payTo: '0x209693Bc6afc0C5328bA36FaF03C514EF312287C', maxTimeoutSeconds: 300, extra: { name: 'USDC', version: '2' } }],
} as never)

/**
 * A merchant on loopback answering `status` with `type`: a body of `size` bytes ('x'), 1 MiB a write as fast as the
 * reader takes it; counts the most it got into one connection before the reader left.
 */
async function merchant(status: number, type: string, size: number) {
  let most = 0
  const server = createServer((req, res) => {
    req.resume()
    res.writeHead(status, { 'content-type': type, ...(status === 402 ? { 'PAYMENT-REQUIRED': required } : {}) })
    let [sent, open] = [0, true]
    res.on('close', () => ((open = false), (most = Math.max(most, sent))))
    const piece = Buffer.alloc(Math.min(MiB, size), 0x78)
    const more = () => {
      while (open && sent < size) {
        sent += piece.length
        if (!res.write(piece)) return void res.once('drain', more)
      }
      if (open) res.end()
    }
    more()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/data`, most: () => most, close: () => server.close() }
}

/** The reader left the connection (the merchant saw it close) having taken far less than the flood. */
async function leftEarly(m: { most: () => number }) {
  await expect.poll(() => m.most(), { timeout: 30_000, interval: 20 }).toBeGreaterThan(0)
  expect(m.most()).toBeLessThan(64 * MiB)
}

const codeOf = (p: Promise<unknown>) => p.then(() => 'resolved', (e: { code?: string; name?: string }) => e.code ?? `untyped ${e.name}`)

/**
 * Attack (rt42, a malicious x402 merchant against `bursar mcp`, the agent's MCP server): the `fetch_paid` and `quote`
 * tools show the LLM at most 16,000 / 2,000 characters of a resource's body, but read it whole first
 * (`res.arrayBuffer()`), and `max_amount` narrowed a 402 after reading its whole body (`arrayBuffer()` / `text()`):
 * a merchant answering with a body without end grew the MCP server's memory by all of it (one URL an LLM was told to
 * open). Safe behaviour: at most 8 MiB of a body is read, the rest not (the note says so), and a 402 past it is
 * refused (`response_invalid`, nothing signed). Counted, not timed: the bytes the merchant got into the connection.
 */
describe('adversarial: a merchant balloons a body the MCP tools read (rt42)', () => {
  it('fetch_paid / quote body: cut after about 8 MiB read (note says the rest was not read), not the 256 MiB sent', async () => {
    const m = await merchant(200, 'text/plain', FLOOD)
    try {
      const r = await readBody(await fetch(m.url), 16_000)
      expect(r.body).toBe('x'.repeat(16_000))
      expect(r.truncated).toBe(true)
      expect(r.note).toBe(`body cut to the first 16000 characters (more than ${8 * MiB} bytes sent; the rest was not read)`)
      await leftEarly(m)
    } finally {
      m.close()
    }
  }, 60_000)

  it('a binary body without end: described as more than 8 MiB, not read past it', async () => {
    const m = await merchant(200, 'application/octet-stream', FLOOD)
    try {
      expect(await readBody(await fetch(m.url), 16_000)).toEqual({ body: '', note: `binary body (application/octet-stream, more than ${8 * MiB} bytes) not shown` })
      await leftEarly(m)
    } finally {
      m.close()
    }
  }, 60_000)

  it('max_amount on a 402 without end: response_invalid, not read past about 8 MiB', async () => {
    const m = await merchant(402, 'application/json', FLOOD)
    try {
      expect(await codeOf(limitPaymentRequired(await fetch(m.url), 5_000n))).toBe('response_invalid')
      await leftEarly(m)
    } finally {
      m.close()
    }
  }, 60_000)

  it('honest merchant: a 50,000-byte body is cut with its length; a small 402 is narrowed and kept whole', async () => {
    const body = await merchant(200, 'text/plain', 50_000)
    const pay = await merchant(402, 'application/json', 1_000)
    try {
      expect((await readBody(await fetch(body.url), 16_000)).note).toBe('body cut to the first 16000 of 50000 characters')
      const narrowed = await limitPaymentRequired(await fetch(pay.url), 5_000n)
      expect(narrowed.status).toBe(402)
      expect((await narrowed.text()).length).toBe(1_000)
    } finally {
      body.close()
      pay.close()
    }
  }, 60_000)
})
