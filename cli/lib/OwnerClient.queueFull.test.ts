import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { afterAll, describe, expect, it } from 'vitest'
import { OwnerClient } from './OwnerClient.js'

/** scope38: the host's relay lane for a wallet is full (owner_act_queue_full, nothing relayed): the CLI sends the same signed act again after retryAfterMs, at most 4 times. */
describe('OwnerClient.post on owner_act_queue_full', () => {
  const bodies: string[] = []
  let answer = { status: 429, body: { code: 'owner_act_queue_full', message: 'full', retryAfterMs: 20 } }
  const server = createServer((req, res) => {
    let text = ''
    req.on('data', (c) => (text += c))
    req.on('end', () => {
      bodies.push(text)
      res.writeHead(answer.status, { 'content-type': 'application/json' }).end(JSON.stringify(answer.body))
    })
  })
  afterAll(() => new Promise<void>((r) => server.close(() => r())))
  const client = async () => {
    if (!server.listening) await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
    return new OwnerClient(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, privateKeyToAccount(generatePrivateKey()))
  }
  const freeze = { wallet: `0x${'ab'.repeat(20)}`, agentId: `agt_${'cd'.repeat(20)}`, frozen: true, seq: '1' }

  it('sends the same signed bytes 4 times, then gives up with the code', async () => {
    await expect((await client()).post('FreezeAgent', freeze)).rejects.toMatchObject({ code: 'owner_act_queue_full' })
    expect(bodies).toHaveLength(4)
    expect(new Set(bodies).size).toBe(1)
  })

  it('does not retry any other refusal', async () => {
    bodies.length = 0
    answer = { status: 409, body: { code: 'governance_stale', message: 'stale', retryAfterMs: 20 } }
    await expect((await client()).post('FreezeAgent', freeze)).rejects.toMatchObject({ code: 'governance_stale' })
    expect(bodies).toHaveLength(1)
  })
})
