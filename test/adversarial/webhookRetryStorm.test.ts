import { type Server, createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { EnclaveGateway } from '../../host/enclave/EnclaveGateway.js'
import { PendingWebhooks } from '../../host/webhooks/PendingWebhooks.js'

/**
 * Attack (malicious agent): a policy that answers out-of-policy requests with `approval_pending` lets the agent
 * open pending requests in a loop (each distinct amount is a new pendingId). Each one paged the owner's webhook
 * with up to 6 attempts and exponential backoff, with no bound on deliveries in flight: against a receiver that
 * fails (or hangs) the host keeps thousands of retry loops and sockets open. Deliveries in flight must be capped.
 */
describe('webhook retry storm from an agent opening pending requests in a loop', () => {
  let receiver: Server
  let url = ''
  let open = 0
  let maxOpen = 0
  let hits = 0
  beforeAll(async () => {
    receiver = createServer((_req, res) => {
      hits++
      open++
      maxOpen = Math.max(maxOpen, open)
      // A slow, failing receiver.
      setTimeout(() => {
        open--
        res.writeHead(503).end()
      }, 200)
    })
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r))
    url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`
  })
  afterAll(() => receiver?.close())

  it('keeps at most a bounded number of deliveries in flight', async () => {
    const wallet = `0x${'ab'.repeat(20)}`
    const ids = Array.from({ length: 500 }, (_v, i) => `pnd_${i}`)
    const expiresAt = Date.now() + 60_000
    const gateway = {
      call: async () => ({
        ok: true,
        result: { wallets: [{ address: wallet, owner: wallet, governance: { owners: [wallet] }, pending: ids.map((pendingId) => ({ pendingId, agentId: 'agt_x', expiresAt, summary: { describe: 'x' } })) }] },
      }),
    } as unknown as EnclaveGateway
    const hooks = new PendingWebhooks({ gateway, urls: { '*': url }, publicUrl: 'https://console.example', backoffMs: 50, maxAttempts: 3, timeoutMs: 2_000 })
    for (const id of ids) hooks.onPending(wallet, id)
    const peak = hooks.inFlight.size
    await Promise.allSettled([...hooks.inFlight])
    expect(peak).toBeLessThanOrEqual(64)
    expect(maxOpen).toBeLessThanOrEqual(64)
    expect(hits).toBeLessThanOrEqual(64 * 3)
  }, 30_000)
})
