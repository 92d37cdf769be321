import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { describe, expect, it } from 'vitest'
import { readAgentPayments, readAgentStatus } from '../../agent/agentRead.js'
import { generateAgentKey } from '../../agent/generateAgentKey.js'
import { requestSignature } from '../../agent/requestSignature.js'

const MiB = 2 ** 20
const WALLET = '0x00000000000000000000000000000000000000aa' as const
/** What the lying host sends at most (so a client that reads it all still ends): far past any honest answer. */
const FLOOD = 256 * MiB

/**
 * A host on loopback (NOT the real host) whose answer to every agent read is one JSON text without end: `{"agentId":"…",
 * "pad":"aaa…` written 1 MiB at a time, as fast as the client takes it, until the client goes or FLOOD is sent.
 * Counts the bytes it got written into the connection.
 */
async function balloonHost() {
  let [sent, most] = [0, 0]
  const server = createServer((req, res) => {
    req.resume()
    const from = sent
    res.on('close', () => (most = Math.max(most, sent - from)))
    res.setHeader('content-type', 'application/json')
    const piece = Buffer.alloc(MiB, 0x61)
    let open = true
    res.on('close', () => (open = false))
    const more = () => {
      while (open && sent < FLOOD) {
        sent += piece.length
        if (!res.write(piece)) return void res.once('drain', more)
      }
      if (open) res.end('"}')
    }
    res.write('{"agentId":"agt_x","pad":"')
    more()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, sent: () => sent, most: () => most, close: () => server.close() }
}

const codeOf = (p: Promise<unknown>) => p.then(() => 'resolved', (e: { code?: string; name?: string }) => e.code ?? `untyped ${e.name}`)

/**
 * Attack (rt41, on the agent SDK's signed reads: limits41 bounded their pages, not a page's size): readAgentStatus,
 * readAgentPayments (and a pay's dry run) read the host's answer with fetch's `res.json()`, which buffers the whole
 * body, however long, within the 30 s timeout: a lying host streaming one JSON text without end grows the agent's
 * process by all it can send in that time (on loopback, gigabytes: an out-of-memory kill of the agent). Safe behaviour:
 * at most 8 MiB of an answer is read (the pay path's postHttp1 bound), then `response_invalid` and the connection is
 * let go. Counted: the bytes the host got into the connection before the client left (kernel buffers allow a few MiB
 * past the client's 8), not timed.
 */
describe('adversarial: a host balloons an agent read (rt41)', () => {
  for (const [name, read] of [
    ['readAgentStatus', (host: string) => readAgentStatus({ host, agentKey: generateAgentKey(), wallet: WALLET })],
    ['readAgentPayments', (host: string) => readAgentPayments({ host, agentKey: generateAgentKey(), wallet: WALLET, limit: 10 })],
  ] as const) {
    it(`${name}: response_invalid after about 8 MiB, not the host's ${FLOOD / MiB} MiB`, async () => {
      const host = await balloonHost()
      try {
        expect(await codeOf(read(host.url))).toBe('response_invalid')
        expect(host.sent()).toBeLessThan(64 * MiB)
      } finally {
        host.close()
      }
    }, 60_000)
  }

  // rt42: a sign request through the caller's own `fetch` (requestSignature's viaFetch) read the answer with
  // res.text(): all a host sent before the deadline, per attempt. Now each attempt reads at most 8 MiB, fails, and the
  // same bytes are resent until the deadline (as a broken answer on the default path): request_outcome_unknown.
  it(`requestSignature through the caller's fetch: each attempt leaves after about 8 MiB, not the host's ${FLOOD / MiB} MiB`, async () => {
    const host = await balloonHost()
    try {
      const operation = { op: 'signMessage', message: { raw: `0x${'11'.repeat(32)}` } } as const
      const sign = requestSignature({ host: host.url, agentKey: generateAgentKey(), wallet: WALLET, operation, fetch: globalThis.fetch, timeoutMs: 2_000, session: false })
      expect(await codeOf(sign)).toBe('request_outcome_unknown')
      expect(host.most()).toBeGreaterThan(0)
      expect(host.most()).toBeLessThan(64 * MiB)
    } finally {
      host.close()
    }
  }, 60_000)
})
