import type { Hex } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { macOf, openTestSession, type TestSession } from '../helpers/agentSessionTest.js'
import { type MaliciousHost, type TestAgent, eip3009, hasSignature, paymentPolicy, refusalCode, signAgentRequest, startWithAgent, verifyPayment } from '../helpers/maliciousHost.js'

/**
 * Attack: one agent key is registered on two wallets (A: generous policy, B: another owner's wallet). The host (or
 * the agent) takes the agent's session opened on A and uses it for a request on B — moving the session, not the
 * MAC: the MAC is genuine, over a text naming B, under A's session. The enclave refuses (session_invalid, no
 * signature): a session is its agent's on its wallet only. B's own session signs on B, and A's on A.
 */
describe('adversarial: a session moved to another wallet of the same agent', () => {
  let host: MaliciousHost
  let walletA: Hex
  let walletB: Hex
  let agent: TestAgent
  let onA: TestSession
  let onB: TestSession

  beforeAll(async () => {
    const s = await startWithAgent(paymentPolicy({ perTx: '5000', rolling24h: '100000' }))
    ;({ host, agent } = s)
    walletA = s.wallet
    walletB = await host.createWallet(s.owner, 'second')
    await host.setupAgent(s.owner, walletB, paymentPolicy({ perTx: '5000', rolling24h: '100000' }), agent)
    await host.waitAgentFloor()
    onA = await openTestSession(host, agent, walletA)
    onB = await openTestSession(host, agent, walletB)
  })
  afterAll(async () => {
    await host?.stop()
  })

  it('A’s session MACing a request on B → session_invalid; each session signs on its own wallet', async () => {
    const r = signAgentRequest({ agent, wallet: walletB, operation: eip3009({ wallet: walletB, value: 1000n }) })
    const moved = await host.agentSign({ request: r.request, signature: macOf(onA, r.request) })
    expect(refusalCode(moved)).toBe('session_invalid')
    expect(hasSignature(moved)).toBe(false)
    // Nothing was claimed: the same text under B's session signs, as B.
    const ok = await host.agentSign({ request: r.request, signature: macOf(onB, r.request) })
    expect(ok.ok).toBe(true)
    expect(await verifyPayment(walletB, r.parsed, (ok as { result: { signature: Hex } }).result.signature)).toBe(true)
    const a = signAgentRequest({ agent, wallet: walletA, operation: eip3009({ wallet: walletA, value: 1000n }) })
    expect(refusalCode(await host.agentSign({ request: a.request, signature: macOf(onB, a.request) }))).toBe('session_invalid')
    expect((await host.agentSign({ request: a.request, signature: macOf(onA, a.request) })).ok).toBe(true)
  })

  it('the session answer names its wallet and agent; a read MACed for B under A’s session is refused too', async () => {
    expect(onA.res.ok && (onA.res.result as { wallet: string }).wallet.toLowerCase()).toBe(walletA.toLowerCase())
    const text = JSON.stringify({ v: 1, agentId: agent.agentId, wallet: walletB, nonce: 'ab'.repeat(16), issuedAt: Date.now(), op: 'readStatus' })
    expect(refusalCode(await host.call({ type: 'agentStatus', request: text, signature: macOf(onA, text) }))).toBe('session_invalid')
  })
})
