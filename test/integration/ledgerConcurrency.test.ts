import type { Hex } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PolicyDeniedError } from '../../agent/errors.js'
import { requestSignature } from '../../agent/requestSignature.js'
import { type StackWithAgent, auditEntries, eip3009, paymentPolicy, pool, stackWithAgent, verifyEip3009, waitAgentFloor } from '../helpers/agentClient.js'

const REQUESTS = 1_000
const CAP = 100
const IN_FLIGHT = 64

/**
 * Budget accounting is exact under concurrency, through the real host and
 * enclave processes: 1,000 one-unit payments race for a 100-unit rolling cap.
 */
describe('ledger: 1,000 parallel requests against a 100-unit cap (real host + enclave)', () => {
  let s: StackWithAgent
  beforeAll(async () => {
    s = await stackWithAgent(paymentPolicy({ perTx: '1', rolling24h: String(CAP) }))
    await waitAgentFloor()
  })
  afterAll(async () => {
    await s?.stack.stop()
  })

  it(`signs exactly ${CAP}; each signature verifies for the wallet (viem); the audit log has exactly ${CAP} sign_allowed`, async () => {
    const ops = Array.from({ length: REQUESTS }, () => eip3009({ wallet: s.wallet, value: 1n }))
    const results = await pool(ops, IN_FLIGHT, (operation) =>
      requestSignature({ host: s.stack.url, agentKey: s.agentKey, wallet: s.wallet, operation }).then(
        (r) => ({ ok: true as const, signature: r.signature, signedHash: r.signedHash }),
        (e: unknown) => ({ ok: false as const, error: e }),
      ),
    )
    const signed = results.flatMap((r, i) => (r.ok ? [{ ...r, op: ops[i]! }] : []))
    const refused = results.flatMap((r) => (r.ok ? [] : [r.error]))
    expect(signed.length).toBe(CAP)
    expect(refused.length).toBe(REQUESTS - CAP)
    for (const e of refused) {
      expect(e).toBeInstanceOf(PolicyDeniedError)
      expect((e as PolicyDeniedError).code).toBe('policy_daily_cap_exceeded')
    }
    for (const { op, signature } of signed) expect(await verifyEip3009(s.wallet, op, signature as Hex)).toBe(true)
    expect(new Set(signed.map((x) => x.signedHash)).size).toBe(CAP)

    const entries = await auditEntries(s.stack.url, s.owner, { agent: s.agentKey.agentId })
    const allowed = entries.filter((e) => e.event === 'sign_allowed')
    expect(allowed.length).toBe(CAP)
    expect(new Set(allowed.map((e) => e.signedHash))).toEqual(new Set(signed.map((x) => x.signedHash)))
    expect(entries.filter((e) => e.event === 'sign_denied').length).toBe(REQUESTS - CAP)

    // Nothing is left: one more unit is refused with remaining 0.
    const extra = await requestSignature({ host: s.stack.url, agentKey: s.agentKey, wallet: s.wallet, operation: eip3009({ wallet: s.wallet, value: 1n }) }).catch((e) => e)
    expect(extra).toBeInstanceOf(PolicyDeniedError)
    expect((extra as PolicyDeniedError).remaining).toBe('0')
  })
})
