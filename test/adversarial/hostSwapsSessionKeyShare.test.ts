import { createHmac, generateKeyPairSync } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { requestSignature } from '../../agent/requestSignature.js'
import { BursarRequestError } from '../../agent/errors.js'
import { deriveKey } from '../helpers/agentSessionTest.js'
import { type StackWithAgent, eip3009, paymentPolicy, stackWithAgent, verifyEip3009, waitAgentFloor } from '../helpers/agentClient.js'

/**
 * Attack: the host answers the agent's openSession with ITS OWN X25519 key instead of the enclave's, hoping to share
 * the session key. It does share a key with the agent (K'), but the enclave holds K (agreed with the agent's signed
 * key share, which the host cannot change): every request the agent MACs with K', and every request the host
 * forges with K', is refused (session_invalid) — no signature, a clear typed error in the SDK. Denial only, which
 * the host can always do by not forwarding.
 */
describe('adversarial: the host swaps the enclave’s X25519 key share in the open answer', () => {
  let s: StackWithAgent
  const hostKey = generateKeyPairSync('x25519')
  const hostPub = Buffer.from(hostKey.publicKey.export({ format: 'jwk' }).x!, 'base64url').toString('hex')
  let openRequest = ''
  let sessionId = ''
  const signBodies: string[] = []
  const answers: unknown[] = []

  // The host's front: forwards to the real host, rewrites the session answer, records what the agent sends.
  const evilFetch: typeof fetch = async (input, init) => {
    const url = String(input)
    const body = String(init?.body ?? '')
    const res = await fetch(url.replace('http://evil', s.stack.url), init)
    const text = await res.text()
    if (url.endsWith('/v1/agent/session') && res.status === 200) {
      openRequest = (JSON.parse(body) as { request: string }).request
      const a = JSON.parse(text) as { session: { id: string; x25519: string } }
      sessionId = a.session.id
      a.session.x25519 = hostPub
      return new Response(JSON.stringify(a), { status: 200, headers: { 'content-type': 'application/json' } })
    }
    if (url.endsWith('/v1/agent/sign')) {
      signBodies.push(body)
      answers.push(JSON.parse(text))
    }
    return new Response(text, { status: res.status, headers: { 'content-type': 'application/json' } })
  }

  beforeAll(async () => {
    s = await stackWithAgent(paymentPolicy({ perTx: '5000', rolling24h: '100000' }))
    await waitAgentFloor()
  }, 60_000)
  afterAll(async () => {
    await s?.stack.stop()
  })

  it('the agent’s MACed request is refused with session_invalid (typed), no signature anywhere', async () => {
    const op = eip3009({ wallet: s.wallet, value: 1000n })
    const err = await requestSignature({ host: 'http://evil', agentKey: s.agentKey, wallet: s.wallet, operation: op, fetch: evilFetch }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(BursarRequestError)
    expect((err as BursarRequestError).code).toBe('session_invalid')
    expect(signBodies).toHaveLength(1)
    expect((JSON.parse(signBodies[0]!) as { signature: string }).signature.startsWith(`s1:${sessionId}:`)).toBe(true)
    expect(answers.every((a) => (a as { signature?: unknown }).signature === undefined)).toBe(true)
  })

  it('the host, which knows K′ (its key × the agent’s share), cannot get a request signed with it either', async () => {
    const agentShare = (JSON.parse(openRequest) as { x25519: string }).x25519
    const kPrime = deriveKey(hostKey.privateKey, agentShare, openRequest)
    const issuedAt = Date.now()
    const text = JSON.stringify({ v: 1, agentId: s.agentKey.agentId, wallet: s.wallet, nonce: 'c'.repeat(32), issuedAt, expiresAt: issuedAt + 30_000, ...eip3009({ wallet: s.wallet, value: 1000n }) })
    const mac = createHmac('sha256', kPrime).update(text).digest('hex')
    const res = await fetch(`${s.stack.url}/v1/agent/sign`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ request: text, signature: `s1:${sessionId}:${mac}` }) })
    const body = (await res.json()) as { code?: string; signature?: string }
    expect(res.status).toBe(401)
    expect(body.code).toBe('session_invalid')
    expect(body.signature).toBeUndefined()
  })

  it('an honest host afterwards: the SDK opens a fresh session and the payment signs (viem verifies)', async () => {
    const op = eip3009({ wallet: s.wallet, value: 1000n })
    const r = await requestSignature({ host: s.stack.url, agentKey: s.agentKey, wallet: s.wallet, operation: op })
    expect(await verifyEip3009(s.wallet, op, r.signature)).toBe(true)
  })
})
