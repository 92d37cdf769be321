import { createHmac } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { requestSignature } from '../../agent/requestSignature.js'
import { deriveKey } from '../helpers/agentSessionTest.js'
import { eip3009, paymentPolicy, verifyEip3009 } from '../helpers/agentClient.js'
import { stackWithAgentPerFile } from '../helpers/stackWithAgentPerFile.js'
import { waitFor } from '../helpers/startStack.js'
import { randomKeyPair } from '../../shared/identity/randomKeyPair.js'

/**
 * Attack: the host answers the agent's openSession with ITS OWN X25519 key instead of the enclave's, hoping to share
 * the session key. It does share a key with the agent (K'), but the enclave holds K (agreed with the agent's signed
 * key share, which the host cannot change): every request the agent MACs with K', and every request the host
 * forges with K', is refused (session_invalid) before anything is read — no signature. Denial only, which the host
 * can always do by not forwarding; the SDK even gets its payment by resending the same text under Ed25519.
 */
describe('adversarial: the host swaps the enclave’s X25519 key share in the open answer', () => {
  const hostKey = randomKeyPair('x25519')
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

  const s = stackWithAgentPerFile(paymentPolicy({ perTx: '5000', rolling24h: '100000' }))

  it('the agent’s MACed request is refused with session_invalid (no signature); the SDK resends the same text under Ed25519', async () => {
    const pay = async () => {
      const op = eip3009({ wallet: s.wallet, value: 1000n })
      const r = await requestSignature({ host: 'http://evil', agentKey: s.agentKey, wallet: s.wallet, operation: op, fetch: evilFetch })
      expect(await verifyEip3009(s.wallet, op, r.signature)).toBe(true)
    }
    await pay() // no session yet: Ed25519, the open runs in the background (and is swapped)
    await waitFor(() => sessionId !== '', 10_000, 'the swapped open answer')
    await new Promise((r) => setTimeout(r, 50))
    signBodies.length = 0
    answers.length = 0
    await pay()
    const auth = signBodies.map((b) => (JSON.parse(b) as { signature: string }).signature)
    const texts = signBodies.map((b) => (JSON.parse(b) as { request: string }).request)
    expect(auth).toHaveLength(2)
    expect(auth[0]!.startsWith(`s1:${sessionId}:`)).toBe(true)
    expect(answers[0]).toMatchObject({ code: 'session_invalid' })
    expect((answers[0] as { signature?: unknown }).signature).toBeUndefined()
    // The same text, now Ed25519-signed: the swap cost one round trip, never a second request.
    expect(texts[1]).toBe(texts[0])
    expect(auth[1]).toMatch(/^[0-9a-f]{128}$/)
    // The SDK backs off sessions for this host after session_invalid: the next payment goes Ed25519 straight away.
    signBodies.length = 0
    await pay()
    expect(signBodies).toHaveLength(1)
    expect((JSON.parse(signBodies[0]!) as { signature: string }).signature).toMatch(/^[0-9a-f]{128}$/)
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

  it('an honest host afterwards: the SDK opens a fresh session and pays in it (viem verifies)', async () => {
    const op = () => eip3009({ wallet: s.wallet, value: 1000n })
    const send = (o: ReturnType<typeof op>) => requestSignature({ host: s.stack.url, agentKey: s.agentKey, wallet: s.wallet, operation: o })
    const o1 = op()
    expect(await verifyEip3009(s.wallet, o1, (await send(o1)).signature)).toBe(true)
    await new Promise((r) => setTimeout(r, 300))
    const o2 = op()
    expect(await verifyEip3009(s.wallet, o2, (await send(o2)).signature)).toBe(true)
  })
})
