import type { Hex, LocalAccount } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AuditEntry } from '../../shared/audit/auditEntry.js'
import {
  type MaliciousHost,
  type TestAgent,
  eip3009,
  hasSignature,
  paymentPolicy,
  refusalCode,
  signAgentRequest,
  startWithAgent,
  verifyPayment,
} from '../helpers/maliciousHost.js'

const AMOUNT = 1_000n
const ALLOWED = 37n
const CAP = AMOUNT * ALLOWED
const REQUESTS = 200

/**
 * Attack: the host pipelines 200 valid agent requests at once on one
 * connection, hoping concurrency lets more than the cap through. The single
 * writer must sign exactly cap / amount of them.
 */
describe('adversarial: 200 pipelined requests against a rolling-24 h cap', () => {
  let host: MaliciousHost
  let wallet: Hex
  let agent: TestAgent
  let owner: LocalAccount

  beforeAll(async () => {
    const s = await startWithAgent(paymentPolicy({ perTx: AMOUNT.toString(), rolling24h: CAP.toString() }))
    host = s.host
    wallet = s.wallet
    agent = s.agent
    owner = s.owner
    await host.waitAgentFloor()
  })
  afterAll(async () => {
    await host?.stop()
  })

  it(`signs exactly ${ALLOWED} of ${REQUESTS}; each signature verifies (viem); the total equals the cap to the unit`, async () => {
    const reqs = Array.from({ length: REQUESTS }, () => signAgentRequest({ agent, wallet, operation: eip3009({ wallet, value: AMOUNT }) }))
    const mark = host.entries.length
    // All frames are written before any response is read: one connection, fully pipelined.
    const results = await Promise.all(reqs.map((r) => host.agentSign(r)))

    const signed = results.flatMap((r, i) => (r.ok ? [{ r, req: reqs[i]! }] : []))
    const refused = results.filter((r) => !r.ok)
    expect(signed.length).toBe(Number(ALLOWED))
    expect(refused.length).toBe(REQUESTS - Number(ALLOWED))
    for (const r of refused) {
      expect(refusalCode(r)).toBe('policy_daily_cap_exceeded')
      expect(hasSignature(r)).toBe(false)
    }

    let total = 0n
    const hashes = new Set<string>()
    for (const { r, req } of signed) {
      const res = (r as { result: { signature: Hex; signedHash: Hex } }).result
      expect(await verifyPayment(wallet, req.parsed, res.signature)).toBe(true)
      hashes.add(res.signedHash)
      total += AMOUNT
    }
    expect(hashes.size).toBe(Number(ALLOWED))
    expect(total).toBe(CAP)

    // The audit log the host was handed agrees: one sign_allowed entry per signature, the rest denied.
    const entries = host.entries.slice(mark).map((t) => JSON.parse(t) as AuditEntry)
    expect(entries.length).toBe(REQUESTS)
    const allowed = entries.filter((e) => e.event === 'sign_allowed')
    expect(allowed.length).toBe(Number(ALLOWED))
    expect(new Set(allowed.map((e) => e.signedHash))).toEqual(hashes)
    // Every allowed entry precedes every denial: the single writer never interleaved a stale budget read.
    const lastAllowed = Math.max(...allowed.map((e) => e.seq))
    const firstDenied = Math.min(...entries.filter((e) => e.event === 'sign_denied').map((e) => e.seq))
    expect(lastAllowed).toBeLessThan(firstDenied)

    // And one more, after the burst, is still refused with nothing remaining.
    const extra = await host.agentSign(signAgentRequest({ agent, wallet, operation: eip3009({ wallet, value: 1n }) }))
    expect(refusalCode(extra)).toBe('policy_daily_cap_exceeded')
    expect(hasSignature(extra)).toBe(false)
  })

  it('the same burst split over 4 connections at once (second agent, cap 13 × 500) also stops exactly at the cap', async () => {
    const { agent: b } = await host.setupAgent(owner, wallet, paymentPolicy({ perTx: '500', rolling24h: String(13 * 500) }))
    const conns = await Promise.all([0, 1, 2, 3].map(() => host.connect()))
    const reqs = Array.from({ length: REQUESTS }, () => signAgentRequest({ agent: b, wallet, operation: eip3009({ wallet, value: 500n }) }))
    const results = await Promise.all(reqs.map((r, i) => host.agentSign(r, conns[i % 4]!)))
    for (const c of conns) c.close()
    const okIdx = results.flatMap((r, i) => (r.ok ? [i] : []))
    expect(okIdx.length).toBe(13)
    for (const i of okIdx) {
      const sig = (results[i] as { result: { signature: Hex } }).result.signature
      expect(await verifyPayment(wallet, reqs[i]!.parsed, sig)).toBe(true)
    }
    for (const r of results.filter((x) => !x.ok)) {
      expect(refusalCode(r)).toBe('policy_daily_cap_exceeded')
      expect(hasSignature(r)).toBe(false)
    }
  })
})
