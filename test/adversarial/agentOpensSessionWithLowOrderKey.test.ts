import { randomBytes } from 'node:crypto'
import type { Hex } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { macOf, openTestSession, openText } from '../helpers/agentSessionTest.js'
import { type MaliciousHost, type TestAgent, paymentPolicy, refusalCode, resign, startWithAgent } from '../helpers/maliciousHost.js'

/**
 * Attack: a (prompt-injected) agent, or anyone holding its key, opens sessions with low-order X25519 key shares
 * (the all-zero point and the other small-order points), whose shared secret is all-zero — a key anyone could
 * compute. The enclave must refuse each with a typed `request_invalid` (400), not fall over into an internal error
 * (a 500 with a stack trace in the enclave's log per request), and must not evict the agent's live sessions for
 * an open it then refuses.
 */
const LOW_ORDER = [
  '00'.repeat(32),
  `01${'00'.repeat(31)}`,
  'e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800',
  '5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157',
  `ec${'ff'.repeat(30)}7f`,
]

describe('adversarial: an agent opens sessions with low-order X25519 key shares', () => {
  let host: MaliciousHost
  let wallet: Hex
  let agent: TestAgent

  beforeAll(async () => {
    const s = await startWithAgent(paymentPolicy({ perTx: '5000', rolling24h: '100000' }))
    ;({ host, wallet, agent } = s)
    await host.waitAgentFloor()
  })
  afterAll(async () => {
    await host?.stop()
  })

  it('each is refused as request_invalid; no internal error; the agent keeps its sessions', async () => {
    const live = []
    for (let i = 0; i < 8; i++) live.push(await openTestSession(host, agent, wallet))
    const logsBefore = host.logs.length
    for (const share of LOW_ORDER) {
      const text = openText(agent, wallet, share)
      const res = await host.call({ type: 'agentStatus', request: text, signature: resign(text, agent.privateKey) })
      expect(refusalCode(res)).toBe('request_invalid')
    }
    expect(host.logs.slice(logsBefore).join('\n')).not.toMatch(/internal error/)
    // The refused opens evicted none of the agent's 8 live sessions: each still authenticates a read.
    for (const s of live) {
      const text = JSON.stringify({ v: 1, agentId: agent.agentId, wallet, nonce: randomBytes(16).toString('hex'), issuedAt: Date.now(), op: 'readStatus' })
      const res = await host.call({ type: 'agentStatus', request: text, signature: macOf(s, text) })
      expect(res.ok ? 'ok' : res.error.code).toBe('ok')
    }
  })
})
