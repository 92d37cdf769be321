import net from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bursarAccount } from '../../agent/bursarAccount.js'
import type { AuditEntry } from '../../shared/audit/auditEntry.js'
import { auditEntries, eip3009, eip3009TypedData, paymentPolicy, postSign, verifyEip3009 } from '../helpers/agentClient.js'
import { stackWithAgentPerFile } from '../helpers/stackWithAgentPerFile.js'

const AMOUNT = 1_000n

/**
 * Attack (or a network that drops a pooled connection at the worst moment): the SDK's second payment goes out on
 * the keep-alive socket its first one used; the host reads it, the enclave decides and signs, and then the agent's
 * socket is RESET before any byte of the answer arrives. The SDK's own client (agent/postHttp1.ts) reports that as
 * ECONNRESET on a reused socket, which postJson resends once on a fresh socket: the resend must be the SAME signed
 * bytes, answered with the stored answer (identical signature), never a second decision or a second spend.
 */
describe('adversarial: a reused keep-alive socket is reset after the host decided (reusedSocketResetAfterDecision)', () => {
  let server: net.Server
  let url = ''
  const sockets = new Set<net.Socket>()
  /** What each client connection sent, as text. */
  const received: string[] = []
  let resets = 0

  const s = stackWithAgentPerFile(paymentPolicy({ perTx: AMOUNT.toString(), rolling24h: (AMOUNT * 10n).toString() }))
  beforeAll(async () => {
    const target = new URL(s.stack.url)
    // A proxy that resets the FIRST connection when the answer to its SECOND request starts to come back.
    server = net.createServer((client) => {
      const conn = received.push('') - 1
      let requests = 0
      const up = net.connect(Number(target.port), target.hostname)
      sockets.add(client).add(up)
      client.on('error', () => up.destroy())
      up.on('error', () => client.destroy())
      client.on('data', (d: Buffer) => {
        received[conn] += d.toString('utf8')
        requests += d.toString('latin1').split('POST /v1/agent/sign ').length - 1
        up.write(d)
      })
      client.on('end', () => up.end())
      up.on('data', (d: Buffer) => {
        if (conn === 0 && requests === 2) {
          resets++
          client.resetAndDestroy()
          up.destroy()
          return
        }
        client.write(d)
      })
      up.on('end', () => client.end())
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`
  })
  afterAll(async () => {
    for (const x of sockets) x.destroy()
    await new Promise((r) => server?.close(r))
  })

  it('the resend on a fresh socket is the same bytes and gets the stored signature; one decision and one spend per payment', async () => {
    // session: false keeps the connection layout this test asserts (the session open would take a pooled socket of
    // its own); the resend of a MACed request is the same postJson path (sessionAfterEnclaveRestart, droppedAnswerDoublePay).
    const account = bursarAccount({ host: url, agentKey: s.agentKey, wallet: s.wallet, timeoutMs: 10_000, session: false })
    const ops = [eip3009({ wallet: s.wallet, value: AMOUNT }), eip3009({ wallet: s.wallet, value: AMOUNT })]
    const sigs: `0x${string}`[] = []
    for (const op of ops) sigs.push(await account.signTypedData(eip3009TypedData(op) as never))
    for (const [i, op] of ops.entries()) expect(await verifyEip3009(s.wallet, op, sigs[i]!)).toBe(true)
    expect(resets).toBe(1)
    // Payment 2 went out on the reused socket (connection 0) and, after the reset, once more on a fresh one.
    expect(received.length).toBe(2)
    const envelopes = (text: string) => text.split('POST /v1/agent/sign ').slice(1).map((r) => r.slice(r.indexOf('\r\n\r\n') + 4))
    const first = envelopes(received[0]!)
    const second = envelopes(received[1]!)
    expect(first).toHaveLength(2)
    expect(second).toEqual([first[1]])

    // The same bytes straight to the host: the stored answer, the signature the SDK returned.
    const again = await postSign(s.stack.url, JSON.parse(first[1]!) as { request: string; signature: string })
    expect(again.status).toBe(200)
    expect(again.json.signature).toBe(sigs[1])

    const entries = (await auditEntries(s.stack.url, s.owner, { agent: s.agentKey.agentId })).filter(
      (e: AuditEntry) => e.event === 'sign_allowed' || e.event === 'sign_denied',
    )
    expect(entries.map((e) => e.event)).toEqual(['sign_allowed', 'sign_allowed'])
    const spends = entries.flatMap((e) => (e.ledger as { type: string }[]).filter((l) => l.type === 'spend'))
    expect(spends).toHaveLength(2)
  }, 60_000)
})
