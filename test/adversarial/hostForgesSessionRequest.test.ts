import type { Hex } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { macOf, openTestSession, type TestSession } from '../helpers/agentSessionTest.js'
import {
  type MaliciousHost,
  type TestAgent,
  eip3009,
  hasSignature,
  newAgent,
  paymentPolicy,
  refusalCode,
  signAgentRequest,
  startWithAgent,
  verifyPayment,
} from '../helpers/maliciousHost.js'

/**
 * Attack: the host sits between an agent with a MAC session and the real enclave. It edits a byte of a MACed
 * request, moves the MAC to another session id (the same agent's, another agent's), replays a MACed request or the
 * session's open request, makes up a session id, or asks for a session under a session MAC. Every case is refused
 * with its code and no signature; the untouched request signs once and verifies with viem.
 */
describe('adversarial: host forges session-MACed agent requests', () => {
  let host: MaliciousHost
  let wallet: Hex
  let agent: TestAgent
  let other: TestAgent
  let session: TestSession
  let second: TestSession
  let otherSession: TestSession

  beforeAll(async () => {
    const s = await startWithAgent(paymentPolicy({ perTx: '5000', rolling24h: '100000' }))
    host = s.host
    wallet = s.wallet
    agent = s.agent
    other = (await host.setupAgent(s.owner, wallet, paymentPolicy({ perTx: '5000', rolling24h: '100000' }), newAgent())).agent
    await host.waitAgentFloor()
    session = await openTestSession(host, agent, wallet)
    second = await openTestSession(host, agent, wallet)
    otherSession = await openTestSession(host, other, wallet)
  })
  afterAll(async () => {
    await host?.stop()
  })

  const macd = (value = 1000n, s = session, who = agent) => {
    const r = signAgentRequest({ agent: who, wallet, operation: eip3009({ wallet, value }) })
    return { ...r, signature: macOf(s, r.request) }
  }

  it('an honest MACed request signs once (viem verifies); the same bytes again → request_replayed', async () => {
    const r = macd()
    const first = await host.agentSign(r)
    expect(first.ok).toBe(true)
    expect(await verifyPayment(wallet, r.parsed, (first as { result: { signature: Hex } }).result.signature)).toBe(true)
    const again = await host.agentSign(r)
    expect(refusalCode(again)).toBe('request_replayed')
    expect(hasSignature(again)).toBe(false)
  })

  it('one byte changed anywhere in the text or the MAC → session_invalid, no signature', async () => {
    const r = macd(1000n)
    const bytes = Buffer.from(r.request, 'utf8')
    for (const at of [0, 5, 40, bytes.length >> 1, bytes.indexOf('1000'), bytes.length - 1]) {
      const edited = Buffer.from(bytes)
      edited[at] = edited[at]! ^ 0x01
      const res = await host.agentSign({ request: edited.toString('utf8'), signature: r.signature })
      expect(refusalCode(res)).toBe('session_invalid')
      expect(hasSignature(res)).toBe(false)
    }
    const flipped = r.signature.slice(0, -1) + (r.signature.endsWith('0') ? '1' : '0')
    expect(refusalCode(await host.agentSign({ request: r.request, signature: flipped }))).toBe('session_invalid')
    // The amount raised under the old MAC:
    expect(refusalCode(await host.agentSign({ request: r.request.replace('"1000"', '"4999"'), signature: r.signature }))).toBe('session_invalid')
    // Nothing above consumed the nonce: the untouched request still signs.
    expect((await host.agentSign(r)).ok).toBe(true)
  })

  it('the MAC moved to another session id (same agent, another agent) or a made-up one → refused', async () => {
    const r = macd()
    const mac = r.signature.slice(36)
    expect(refusalCode(await host.agentSign({ request: r.request, signature: `s1:${second.id}:${mac}` }))).toBe('session_invalid')
    expect(refusalCode(await host.agentSign({ request: r.request, signature: `s1:${otherSession.id}:${mac}` }))).toBe('session_invalid')
    expect(refusalCode(await host.agentSign({ request: r.request, signature: `s1:${'0'.repeat(32)}:${mac}` }))).toBe('session_unknown')
    // Another agent MACs a request naming this agent under its own (valid) session: the session is not this agent's.
    const forged = signAgentRequest({ agent, wallet, operation: eip3009({ wallet, value: 1000n }) })
    const res = await host.agentSign({ request: forged.request, signature: macOf(otherSession, forged.request) })
    expect(refusalCode(res)).toBe('session_invalid')
    expect(hasSignature(res)).toBe(false)
    expect((await host.agentSign(r)).ok).toBe(true)
  })

  it('the open request replayed → request_replayed (no second session); openSession under a session MAC → request_invalid', async () => {
    const replay = await host.call({ type: 'agentStatus', ...session.open })
    expect(refusalCode(replay)).toBe('request_replayed')
    const text = session.open.request.replace(/"nonce":"[0-9a-f]+"/, `"nonce":"${'a'.repeat(32)}"`)
    expect(refusalCode(await host.call({ type: 'agentStatus', request: text, signature: macOf(session, text) }))).toBe('request_invalid')
  })

  it('the per-request Ed25519 path still works beside sessions', async () => {
    const r = signAgentRequest({ agent, wallet, operation: eip3009({ wallet, value: 1000n }) })
    const res = await host.agentSign(r)
    expect(res.ok).toBe(true)
    expect(await verifyPayment(wallet, r.parsed, (res as { result: { signature: Hex } }).result.signature)).toBe(true)
  })
})
