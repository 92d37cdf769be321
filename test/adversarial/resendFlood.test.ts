import { randomBytes, sign } from 'node:crypto'
import { Agent, request } from 'node:http'
import { describe, expect, it } from 'vitest'
import { ed25519PrivateKeyFromSeed } from '../../agent/ed25519PrivateKeyFromSeed.js'
import type { AuditEntry } from '../../shared/audit/auditEntry.js'
import { OTHER_PAYEE, auditEntries, eip3009, paymentPolicy, postSign, verifyEip3009 } from '../helpers/agentClient.js'
import { stackWithAgentPerFile } from '../helpers/stackWithAgentPerFile.js'

const AMOUNT = 1_000n
const COPIES = 1_000

/**
 * Attack: 1,000 copies of one signed payment request at once (a retry storm, or a host-side attacker replaying the
 * agent's bytes). Exactly one is decided: one signature (every copy gets the same one), one ledger entry, one audit
 * entry; the budget counts it once. The same nonce with other content is refused.
 */
describe('adversarial: 1,000 concurrent resends of one payment request', () => {
  const key = () => ed25519PrivateKeyFromSeed(s.agentKey.privateKey)
  const signed = (op: ReturnType<typeof eip3009>, nonce: string) => {
    const issuedAt = Date.now()
    const text = JSON.stringify({ v: 1, agentId: s.agentKey.agentId, wallet: s.wallet, nonce, issuedAt, expiresAt: issuedAt + 30_000, ...op })
    return { request: text, signature: sign(null, Buffer.from(text, 'utf8'), key()).toString('hex') }
  }

  // Room for exactly two payments: if a copy were counted twice, the later honest payment would be refused.
  const s = stackWithAgentPerFile(paymentPolicy({ perTx: AMOUNT.toString(), rolling24h: (AMOUNT * 2n).toString() }))

  it('one signature for all 1,000 copies; one ledger entry and one audit entry; the budget counts it once', async () => {
    const op = eip3009({ wallet: s.wallet, value: AMOUNT })
    const nonce = randomBytes(16).toString('hex')
    const body = JSON.stringify(signed(op, nonce))
    const url = new URL(`${s.stack.url}/v1/agent/sign`)
    const agent = new Agent({ keepAlive: true, maxSockets: 200 })
    const post = () =>
      new Promise<{ status: number; json: Record<string, unknown> }>((resolve, reject) => {
        const req = request(
          { agent, hostname: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { 'content-type': 'application/json' } },
          (res) => {
            let t = ''
            res.on('data', (d: Buffer) => (t += d.toString()))
            res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(t) as Record<string, unknown> }))
          },
        )
        req.on('error', reject)
        req.end(body)
      })
    const answers = await Promise.all(Array.from({ length: COPIES }, post))
    agent.destroy()

    const statuses = new Map<number, number>()
    for (const a of answers) statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1)
    expect(Object.fromEntries(statuses)).toEqual({ 200: COPIES })
    const signatures = new Set(answers.map((a) => a.json.signature))
    expect(signatures.size).toBe(1)
    expect(await verifyEip3009(s.wallet, op, [...signatures][0] as `0x${string}`)).toBe(true)

    const entries = await auditEntries(s.stack.url, s.owner, { agent: s.agentKey.agentId })
    const decided = entries.filter((e: AuditEntry) => e.requestId === nonce)
    expect(decided).toHaveLength(1)
    expect(decided[0]!.event).toBe('sign_allowed')
    expect(entries.flatMap((e) => (e.ledger as { type: string }[]).filter((l) => l.type === 'spend'))).toHaveLength(1)

    // The budget (2 payments) counted it once: one more payment is allowed, the next is over the cap.
    const second = await postSign(s.stack.url, signed(eip3009({ wallet: s.wallet, value: AMOUNT }), randomBytes(16).toString('hex')))
    expect(second.status).toBe(200)
    const third = await postSign(s.stack.url, signed(eip3009({ wallet: s.wallet, value: AMOUNT }), randomBytes(16).toString('hex')))
    expect(third.json.code).toBe('policy_daily_cap_exceeded')

    // The same nonce with other content (another payee), alone and mixed into a second storm: refused, never signed.
    const swapped = signed(eip3009({ wallet: s.wallet, value: AMOUNT, to: OTHER_PAYEE }), nonce)
    const refused = await postSign(s.stack.url, swapped)
    expect([refused.status, refused.json.code, refused.json.signature]).toEqual([409, 'request_nonce_reused', undefined])
  }, 120_000)

  it('a copy with other bytes racing the genuine one in flight: one content is decided once, every copy of the other is refused', async () => {
    const nonce = randomBytes(16).toString('hex')
    const genuine = signed(eip3009({ wallet: s.wallet, value: 1n }), nonce)
    const other = signed(eip3009({ wallet: s.wallet, value: 2n }), nonce)
    const results = await Promise.all([
      ...Array.from({ length: 50 }, () => postSign(s.stack.url, genuine)),
      ...Array.from({ length: 5 }, () => postSign(s.stack.url, other)),
    ])
    const g = results.slice(0, 50)
    const o = results.slice(50)
    // Whichever arrived first is decided (here: over the cap, nothing signed); all its copies share that answer.
    const gReused = g.every((r) => r.json.code === 'request_nonce_reused')
    const oReused = o.every((r) => r.json.code === 'request_nonce_reused')
    expect(gReused !== oReused).toBe(true)
    const winners = gReused ? o : g
    expect(new Set(winners.map((r) => JSON.stringify(r.json))).size).toBe(1)
    expect(winners[0]!.json.code).toBe('policy_daily_cap_exceeded')
    const entries = await auditEntries(s.stack.url, s.owner, { agent: s.agentKey.agentId })
    expect(entries.filter((e) => e.requestId === nonce)).toHaveLength(1)
  }, 60_000)
})
