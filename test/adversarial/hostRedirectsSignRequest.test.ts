import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, describe, expect, it } from 'vitest'
import { generateAgentKey } from '../../agent/generateAgentKey.js'
import { mockBursarHost } from '../../agent/mockBursarHost.js'
import { requestSignature } from '../../agent/requestSignature.js'

const WALLET_KEY = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d' as const
const wallet = privateKeyToAccount(WALLET_KEY).address
const agentKey = generateAgentKey()
const op = { op: 'signMessage', message: { text: 'hello bursar' } } as const

/**
 * Attack (red team rt29b, on fast22's per-host URL cache): the SDK parses the sign and session URLs once per host
 * string and keeps the URL objects. A host answers with redirects (301/302/307/308 to another server, for the sign
 * and the session open) hoping the SDK follows them or that the cached route now points at the other server. Held:
 * the SDK's own HTTP client follows no redirect (a 3xx is a refusal), the cache is keyed by the caller's host string
 * and its URL objects are never changed, so the next payment goes to the same host, and the other server sees nothing.
 */
describe('adversarial: the host redirects sign requests and session opens', () => {
  const elsewhere: string[] = []
  const other = createServer((req, res) => {
    elsewhere.push(`${req.method} ${req.url}`)
    res.writeHead(500).end()
  })
  afterAll(() => other.close())

  it('a redirect is never followed and never moves the cached route', async () => {
    await new Promise<void>((r) => other.listen(0, '127.0.0.1', r))
    const otherUrl = `http://127.0.0.1:${(other.address() as AddressInfo).port}`
    let redirect = true
    const seen: string[] = []
    const liar = createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`)
      req.resume()
      if (redirect) return void res.writeHead(307, { location: `${otherUrl}${req.url}` }).end()
      res.writeHead(404).end()
    })
    await new Promise<void>((r) => liar.listen(0, '127.0.0.1', r))
    const liarUrl = `http://127.0.0.1:${(liar.address() as AddressInfo).port}`
    try {
      for (let i = 0; i < 3; i++) await expect(requestSignature({ host: liarUrl, agentKey, wallet, operation: op, timeoutMs: 2_000 })).rejects.toBeTruthy()
      // The background session open (suite39: polled; a fixed 300 ms could pass before it on a loaded machine), then
      // 300 ms for a redirect the SDK would follow to reach the other host.
      await expect.poll(() => seen.filter((s) => s === 'POST /v1/agent/session').length, { timeout: 10_000 }).toBeGreaterThanOrEqual(1)
      await new Promise((r) => setTimeout(r, 300))
      expect(seen.filter((s) => s === 'POST /v1/agent/sign')).toHaveLength(3)
      expect(elsewhere).toEqual([])
      // The same host string later, and a genuine host under another string: each still goes where its string says.
      redirect = false
      await expect(requestSignature({ host: liarUrl, agentKey, wallet, operation: op, timeoutMs: 2_000 })).rejects.toBeTruthy()
      expect(seen.filter((s) => s === 'POST /v1/agent/sign')).toHaveLength(4)
      const h = await mockBursarHost({ agentPublicKeys: [agentKey.publicKey], walletKey: WALLET_KEY })
      try {
        await requestSignature({ host: h.url, agentKey, wallet, operation: op })
        expect(h.requests).toHaveLength(1)
      } finally {
        await h.stop()
      }
      expect(elsewhere).toEqual([])
    } finally {
      liar.close()
    }
  })
})
