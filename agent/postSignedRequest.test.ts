import { type Server, createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { ApprovalPendingError, PolicyDeniedError } from './errors.js'
import { generateAgentKey } from './generateAgentKey.js'
import { postSignedRequest } from './postSignedRequest.js'

const agentKey = generateAgentKey()
const wallet = '0x000000000000000000000000000000000000dEaD' as const
let server: Server | undefined
afterEach(async () => {
  await new Promise((r) => server?.close(r) ?? r(undefined))
  server = undefined
})

/** A loopback host that answers every POST with `status` and `body`. */
async function host(status: number, body: unknown): Promise<string> {
  server = createServer((req, res) => {
    req.resume()
    req.on('end', () => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body)))
  })
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}
const post = (url: string) => postSignedRequest({ host: url, agentKey, wallet, path: '/v1/agent/sign', fields: { op: 'signTypedData' } })

describe('postSignedRequest: a refusal is an error even with a 2xx status', () => {
  it('202 approval_pending is ApprovalPendingError carrying the pending id (not a success body)', async () => {
    const err = await post(await host(202, { code: 'approval_pending', message: 'waiting', pendingId: 'pnd_abc' })).catch((e) => e)
    expect(err).toBeInstanceOf(ApprovalPendingError)
    expect((err as ApprovalPendingError).pendingId).toBe('pnd_abc')
  })

  it('a 200 carrying a policy code is a refusal too', async () => {
    await expect(post(await host(200, { code: 'policy_per_tx_cap_exceeded', message: 'no', rule: 'rules.a' }))).rejects.toBeInstanceOf(PolicyDeniedError)
  })

  it('a dry-run answer (its verdict may carry a code) and a plain read are successes', async () => {
    const dry = { dryRun: true, verdict: 'deny', code: 'policy_per_tx_cap_exceeded', spends: [] }
    expect((await post(await host(200, dry))).body).toEqual(dry)
    await new Promise((r) => server!.close(r))
    expect((await post(await host(200, { agentId: agentKey.agentId, entries: [] }))).body).toMatchObject({ entries: [] })
  })
})

describe('postSignedRequest: an enclave that just started', () => {
  it('request_before_enclave_start without retryAfterMs waits out the 2 s start floor and signs afresh', async () => {
    const seen: string[] = []
    server = createServer((req, res) => {
      let b = ''
      req.on('data', (d: Buffer) => (b += d.toString()))
      req.on('end', () => {
        seen.push(JSON.parse(JSON.parse(b).request).nonce)
        const early = seen.length === 1
        res.writeHead(early ? 409 : 200, { 'content-type': 'application/json' }).end(JSON.stringify(early ? { code: 'request_before_enclave_start', message: 'x' } : { agentId: agentKey.agentId, entries: [] }))
      })
    })
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r))
    const t0 = Date.now()
    await post(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)
    expect(Date.now() - t0).toBeGreaterThanOrEqual(2_000)
    expect(seen.length).toBe(2)
    expect(seen[0]).not.toBe(seen[1])
  })
})
