import { randomBytes, sign } from 'node:crypto'
import type { Hex } from 'viem'
import { beforeAll, describe, expect, it } from 'vitest'
import { readAgentPayments } from '../../agent/agentRead.js'
import { ed25519PrivateKeyFromSeed } from '../../agent/ed25519PrivateKeyFromSeed.js'
import type { AgentKey } from '../../agent/loadAgentKey.js'
import { setupAgent } from '../../scripts/devchain/setupAgent.js'
import { MERCHANT, eip3009, paymentPolicy, postSign, signedBody } from '../helpers/agentClient.js'
import { stackWithAgentPerFile } from '../helpers/stackWithAgentPerFile.js'

type Body = { request: string; signature: string }

/** A read request signed by `signer` whose fields say whatever the attacker wants. */
function readBody(signer: AgentKey, fields: Record<string, unknown>): Body {
  const text = JSON.stringify({ v: 1, nonce: randomBytes(16).toString('hex'), issuedAt: Date.now(), ...fields })
  return { request: text, signature: sign(null, Buffer.from(text, 'utf8'), ed25519PrivateKeyFromSeed(signer.privateKey)).toString('hex') }
}

async function post(url: string, path: string, body: Body) {
  const res = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  return { status: res.status, json: (await res.json()) as Record<string, unknown> }
}

/**
 * Attack: an agent (or anyone holding a captured request) reads another
 * agent's payments or budget through the agent read routes — by naming the
 * other agent, reusing a signed status read for payments, replaying a
 * captured read, or turning a read into a signing request.
 */
describe('adversarial: an agent reads another agent’s audit entries or budget', () => {
  let other: AgentKey
  let wallet: Hex

  const s = stackWithAgentPerFile(paymentPolicy({ perTx: '5000', rolling24h: '100000' }))
  beforeAll(async () => {
    wallet = s.wallet
    other = (await setupAgent({ host: s.stack.url, owner: s.owner, wallet, policy: paymentPolicy({ perTx: '5000', rolling24h: '100000' }) })).agentKey
    // Each agent makes one decision the other must never see.
    expect((await postSign(s.stack.url, signedBody({ agentKey: s.agentKey, wallet, operation: eip3009({ wallet, value: 1000n, to: MERCHANT }) }))).status).toBe(200)
    expect((await postSign(s.stack.url, signedBody({ agentKey: other, wallet, operation: eip3009({ wallet, value: 9000n, to: MERCHANT }) }))).status).toBe(403)
  })

  it('an agent sees only its own entries', async () => {
    const mine = await readAgentPayments({ host: s.stack.url, agentKey: s.agentKey, wallet, limit: 100 })
    expect(mine.entries.length).toBeGreaterThan(0)
    expect(mine.entries.every((e) => e.agentId === s.agentKey.agentId)).toBe(true)
    const theirs = await readAgentPayments({ host: s.stack.url, agentKey: other, wallet, limit: 100 })
    expect(theirs.entries.some((e) => e.verdict === 'deny')).toBe(true)
    expect(theirs.entries.every((e) => e.agentId === other.agentId)).toBe(true)
  })

  it('naming the other agent under my own key → agent_signature_invalid, no entries', async () => {
    const forged = readBody(s.agentKey, { agentId: other.agentId, wallet, op: 'readPayments' })
    const r = await post(s.stack.url, '/v1/agent/payments', forged)
    expect(r.status).toBe(401)
    expect(r.json.code).toBe('agent_signature_invalid')
    expect(r.json.entries).toBeUndefined()
    expect((await post(s.stack.url, '/v1/agent/status', forged)).json.code).toBe('agent_signature_invalid')
  })

  it('a signed status read is not a payments read; a captured read does not work twice; a read is never a signing request', async () => {
    const status = readBody(s.agentKey, { agentId: s.agentKey.agentId, wallet, op: 'readStatus' })
    const r = await post(s.stack.url, '/v1/agent/payments', status)
    expect(r.status).toBe(400)
    expect(r.json.entries).toBeUndefined()

    const captured = readBody(s.agentKey, { agentId: s.agentKey.agentId, wallet, op: 'readPayments' })
    expect((await post(s.stack.url, '/v1/agent/payments', captured)).status).toBe(200)
    const again = await post(s.stack.url, '/v1/agent/payments', captured)
    expect(again.json.code).toBe('request_replayed')
    expect(again.json.entries).toBeUndefined()

    const asSign = await postSign(s.stack.url, readBody(s.agentKey, { agentId: s.agentKey.agentId, wallet, op: 'readStatus' }))
    expect(asSign.json.code).toBe('request_invalid')
    expect(asSign.json.signature).toBeUndefined()
  })

  it('a stale read (older than the freshness window) is refused', async () => {
    const text = JSON.stringify({ v: 1, agentId: s.agentKey.agentId, wallet, nonce: randomBytes(16).toString('hex'), issuedAt: Date.now() - 120_000, op: 'readPayments' })
    const stale = { request: text, signature: sign(null, Buffer.from(text), ed25519PrivateKeyFromSeed(s.agentKey.privateKey)).toString('hex') }
    const r = await post(s.stack.url, '/v1/agent/payments', stale)
    expect(r.json.code).toBe('request_stale')
    expect(r.json.entries).toBeUndefined()
  })
})
