import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { requestSignature } from '../../agent/requestSignature.js'
import { type StackWithAgent, eip3009, paymentPolicy, stackWithAgent, verifyEip3009, waitAgentFloor } from '../helpers/agentClient.js'

/**
 * Attack (or an honest crash): the enclave restarts and forgets every session; the host keeps forwarding the
 * agent's MACed requests to an enclave that no longer has the key. The enclave refuses before reading anything
 * (session_unknown); the SDK opens a new session and resends the same request text, transparently: the caller gets
 * a signature that verifies, and every payment counts once.
 */
describe('adversarial: sessions after an enclave restart', () => {
  let s: StackWithAgent
  const posts: { path: string; body: string; status: number; answer: string }[] = []
  const recording: typeof fetch = async (input, init) => {
    const res = await fetch(input, init)
    const answer = await res.text()
    posts.push({ path: new URL(String(input)).pathname, body: String(init?.body ?? ''), status: res.status, answer })
    return new Response(answer, { status: res.status, headers: { 'content-type': 'application/json' } })
  }
  const pay = async (value: bigint) => {
    const op = eip3009({ wallet: s.wallet, value })
    const r = await requestSignature({ host: s.stack.url, agentKey: s.agentKey, wallet: s.wallet, operation: op, fetch: recording })
    expect(await verifyEip3009(s.wallet, op, r.signature)).toBe(true)
  }

  beforeAll(async () => {
    s = await stackWithAgent(paymentPolicy({ perTx: '5000', rolling24h: '100000' }))
    await waitAgentFloor()
  }, 60_000)
  afterAll(async () => {
    await s?.stack.stop()
  })

  it('pays in a session, survives a restart with one re-open, and keeps paying in the new session', async () => {
    await pay(1000n)
    await pay(1001n)
    const before = posts.filter((p) => p.path === '/v1/agent/session')
    expect(before).toHaveLength(1)
    expect(posts.filter((p) => p.path === '/v1/agent/sign').every((p) => p.body.includes('"signature":"s1:'))).toBe(true)

    await s.stack.stopEnclave()
    await s.stack.startEnclave()
    await s.stack.waitReady(20_000)
    await waitAgentFloor()

    posts.length = 0
    await pay(1002n)
    await pay(1003n)
    const signs = posts.filter((p) => p.path === '/v1/agent/sign')
    // The first copy hit the forgotten session; the same text went again under the new one; then one post each.
    expect(JSON.parse(signs[0]!.answer).code).toBe('session_unknown')
    const text = (b: string) => (JSON.parse(b) as { request: string }).request
    expect(text(signs[1]!.body)).toBe(text(signs[0]!.body))
    expect(signs).toHaveLength(3)
    expect(posts.filter((p) => p.path === '/v1/agent/session')).toHaveLength(1)
    expect(signs.every((p) => p.body.includes('"signature":"s1:'))).toBe(true)
  }, 60_000)
})
