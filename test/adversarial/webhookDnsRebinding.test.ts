import { type IncomingHttpHeaders, type Server, createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { EnclaveGateway } from '../../host/enclave/EnclaveGateway.js'
import { PendingWebhooks } from '../../host/webhooks/PendingWebhooks.js'
import type { WebhookSettings } from '../../host/webhooks/WebhookSettings.js'
import { type ResolvedAddress, resolveTarget } from '../../host/webhooks/webhookTarget.js'
import { signWebhookSetting } from '../../shared/owner/webhookSetting.js'

/**
 * Attack (DNS rebinding): an owner sets its webhook to a name it controls, whose DNS answers a public address to
 * the host's delivery-time check and, with TTL 0, an internal one to the next lookup — the one the HTTP client
 * makes to connect. The check passes and the POST lands in the host's own network. Fix: resolve once, check
 * that address, connect to it (host/webhooks/webhookTarget.ts resolveTarget + postJson `pinned`).
 *
 * The test's network: 127.0.0.1 plays the public receiver, 127.0.0.2 the internal service (same port), and a
 * resolver that answers 127.0.0.1 once, then 127.0.0.2 for ever.
 */
describe('webhook DNS rebinding: the delivery connects to the address it checked', () => {
  const owner = privateKeyToAccount(generatePrivateKey())
  const wallet = '0x1111111111111111111111111111111111111111'
  const got = { public: [] as IncomingHttpHeaders[], internal: [] as IncomingHttpHeaders[] }
  let pub: Server
  let internal: Server
  let port: number
  let failFirst = true
  beforeAll(async () => {
    pub = createServer((req, res) => {
      got.public.push(req.headers)
      req.resume()
      // The first attempt fails, so the retry shows that retries are pinned too.
      res.writeHead(failFirst ? 500 : 200).end()
      failFirst = false
    })
    await new Promise<void>((r) => pub.listen(0, '127.0.0.1', r))
    port = (pub.address() as AddressInfo).port
    internal = createServer((req, res) => {
      got.internal.push(req.headers)
      req.resume()
      res.writeHead(200).end()
    })
    await new Promise<void>((r) => internal.listen(port, '127.0.0.2', r))
  })
  afterAll(async () => {
    await Promise.all([pub, internal].map((s) => new Promise((r) => s?.close(r))))
  })

  const rebinding = () => {
    let calls = 0
    return {
      calls: () => calls,
      resolve: async (_host: string): Promise<ResolvedAddress[]> => (calls++ === 0 ? [{ address: '127.0.0.1', family: 4 }] : [{ address: '127.0.0.2', family: 4 }]),
      isInternal: (ip: string) => ip !== '127.0.0.1',
    }
  }

  function webhooks(url: string, dns: ReturnType<typeof rebinding>, log: string[]) {
    const setting = signWebhookSetting({ account: owner, wallet, url, issuedAt: Date.now() })
    const gateway = {
      call: async () => ({
        ok: true,
        result: {
          wallets: [
            {
              address: wallet,
              governance: { owners: [owner.address.toLowerCase()] },
              pending: [{ pendingId: 'pnd_1', agentId: 'agt_x', summary: { describe: 'a payment' }, expiresAt: Date.now() + 60_000 }],
            },
          ],
        },
      }),
    } as unknown as EnclaveGateway
    return setting.then(
      (s) =>
        new PendingWebhooks({
          gateway,
          urls: {},
          settings: { get: () => s } as unknown as WebhookSettings,
          publicUrl: 'https://bursar.example',
          backoffMs: 20,
          maxAttempts: 4,
          checkOwnerTargets: true,
          resolveOptions: { resolve: dns.resolve, isInternal: dns.isInternal },
          log: (l) => log.push(l),
        }),
    )
  }

  it('resolves once: every attempt (retries too) goes to the checked address, never to the rebound one', async () => {
    const dns = rebinding()
    const log: string[] = []
    const url = `http://rebind.attacker.example:${port}/hook`
    const w = await webhooks(url, dns, log)
    w.onPending(wallet, 'pnd_1')
    await Promise.all([...w.inFlight])
    expect(log).toEqual([])
    expect(got.public.length).toBe(2) // 500, then 200
    expect(got.internal).toEqual([])
    expect(dns.calls()).toBe(1)
    // The request is still for the name (Host header), only the socket is pinned.
    expect(got.public[0]!.host).toBe(`rebind.attacker.example:${port}`)
  })

  it('a name that answers an internal address to the check gets nothing', async () => {
    const dns = rebinding()
    await dns.resolve('burn the public answer')
    const log: string[] = []
    const w = await webhooks(`http://rebind.attacker.example:${port}/hook`, dns, log)
    const before = got.internal.length + got.public.length
    w.onPending(wallet, 'pnd_1')
    await Promise.all([...w.inFlight])
    expect(got.internal.length + got.public.length).toBe(before)
    expect(log.join('\n')).toContain('resolves to 127.0.0.2')
  })

  it('one internal address among several answers refuses the name; the default check refuses literals and local names', async () => {
    const mixed = await resolveTarget('https://hook.example/x', {
      resolve: async () => [
        { address: '93.184.216.34', family: 4 },
        { address: '10.0.0.7', family: 4 },
      ],
    })
    expect(mixed).toEqual({ ok: false, reason: 'hook.example resolves to 10.0.0.7' })
    expect(await resolveTarget('https://hook.example/x', { resolve: async () => [{ address: '93.184.216.34', family: 4 }] })).toEqual({
      ok: true,
      pinned: { address: '93.184.216.34', family: 4 },
    })
    expect((await resolveTarget('https://169.254.169.254/latest')).ok).toBe(false)
    expect((await resolveTarget('https://metadata.internal/')).ok).toBe(false)
  })
})
