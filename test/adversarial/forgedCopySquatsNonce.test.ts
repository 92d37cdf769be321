import { randomBytes } from 'node:crypto'
import { Agent, request } from 'node:http'
import type { Hex } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { setupAgent } from '../../scripts/devchain/setupAgent.js'
import type { AgentKey } from '../../agent/loadAgentKey.js'
import { type SignedBody, auditEntries, eip3009, paymentPolicy, postSign, signedBody, verifyEip3009 } from '../helpers/agentClient.js'
import { stackWithAgentPerFile } from '../helpers/stackWithAgentPerFile.js'

const AMOUNT = 1_000n
const ROUNDS = 8

/**
 * Attack: someone who learnt an agent's request nonce (it is in the request text) but has no agent key floods the
 * host with copies under that (agent, nonce) carrying forged signatures — each copy different, so none is "the same
 * bytes" as another. None can be decided (the enclave refuses a forged signature before it claims the nonce), but a
 * host that makes every copy of a nonce wait behind the copy in flight, for a bounded number of rounds, can be kept
 * busy with forged copies until the genuine request gives up with `request_nonce_reused` without ever reaching the
 * enclave. Also: another registered agent using the same nonce (or naming the victim's agentId with its own key)
 * must not touch the victim's answer. The genuine request must be decided and signed every time.
 */
describe('adversarial: forged copies squat on an agent request nonce', () => {
  let other: AgentKey

  const s = stackWithAgentPerFile(paymentPolicy({ perTx: AMOUNT.toString(), rolling24h: (AMOUNT * 100n).toString() }))
  beforeAll(async () => {
    const o = await setupAgent({ host: s.stack.url, owner: s.owner, wallet: s.wallet, policy: paymentPolicy({ perTx: AMOUNT.toString(), rolling24h: (AMOUNT * 100n).toString() }) })
    other = o.agentKey
  })

  const agent = new Agent({ keepAlive: true, maxSockets: 256 })
  afterAll(() => agent.destroy())
  const post = (body: SignedBody) =>
    new Promise<{ status: number; json: Record<string, unknown> }>((resolve, reject) => {
      const url = new URL(`${s.stack.url}/v1/agent/sign`)
      const req = request({ agent, hostname: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
        let t = ''
        res.on('data', (d: Buffer) => (t += d.toString()))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(t) as Record<string, unknown> }))
      })
      req.on('error', reject)
      req.end(JSON.stringify(body))
    })

  it('the genuine request is signed while distinct forged copies of its nonce flood the host', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const op = eip3009({ wallet: s.wallet, value: AMOUNT })
      const genuine = signedBody({ agentKey: s.agentKey, wallet: s.wallet, operation: op })
      const nonce = (JSON.parse(genuine.request) as { nonce: string }).nonce
      // Forged: the genuine text (or any text naming the victim and nonce) with a random signature, a new one each copy.
      const forged = () => ({ request: genuine.request, signature: randomBytes(64).toString('hex') })
      let flooding = true
      const forgedAnswers: string[] = []
      const flood = Array.from({ length: 48 }, async () => {
        while (flooding) {
          const a = await post(forged())
          forgedAnswers.push(`${a.status} ${String(a.json.code)}${a.json.signature === undefined ? '' : ' SIGNED'}`)
        }
      })
      await new Promise((r) => setTimeout(r, 30))
      const answer = await post(genuine)
      flooding = false
      await Promise.all(flood)
      expect([round, answer.status, answer.json.code]).toEqual([round, 200, undefined])
      expect(await verifyEip3009(s.wallet, op, answer.json.signature as Hex)).toBe(true)
      // Forged copies: refused by the enclave, or (once the genuine one is decided) request_nonce_reused; never signed.
      expect(forgedAnswers.length).toBeGreaterThan(0)
      for (const a of new Set(forgedAnswers)) expect(['401 agent_signature_invalid', '409 request_nonce_reused']).toContain(a)
      const entries = (await auditEntries(s.stack.url, s.owner, { agent: s.agentKey.agentId })).filter((e) => e.requestId === nonce)
      expect(entries.map((e) => e.event)).toEqual(['sign_allowed'])
      // After the decision, the genuine TEXT with a forged signature does not read the stored answer (no signature leak).
      const peek = await post(forged())
      expect([peek.status, peek.json.code, peek.json.signature]).toEqual([409, 'request_nonce_reused', undefined])
    }
  }, 120_000)

  it('another agent using the same nonce, or naming the victim with its own key, does not touch the victim’s answer', async () => {
    const nonce = randomBytes(16).toString('hex')
    const mine = await postSign(s.stack.url, signedBody({ agentKey: other, wallet: s.wallet, operation: eip3009({ wallet: s.wallet, value: AMOUNT }), extra: { nonce } }))
    expect(mine.status).toBe(200)
    // The other agent's key over a text that names the victim: refused before anything is decided or stored.
    const impersonation = signedBody({ agentKey: other, wallet: s.wallet, operation: eip3009({ wallet: s.wallet, value: AMOUNT }), extra: { nonce, agentId: s.agentKey.agentId } })
    const imp = await postSign(s.stack.url, impersonation)
    expect([imp.status, imp.json.code]).toEqual([401, 'agent_signature_invalid'])
    const op = eip3009({ wallet: s.wallet, value: AMOUNT })
    const victim = await postSign(s.stack.url, signedBody({ agentKey: s.agentKey, wallet: s.wallet, operation: op, extra: { nonce } }))
    expect([victim.status, victim.json.code]).toEqual([200, undefined])
    expect(await verifyEip3009(s.wallet, op, victim.json.signature as Hex)).toBe(true)
    expect(victim.json.signature).not.toBe(mine.json.signature)
  }, 60_000)
})
