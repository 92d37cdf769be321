import type { Hex } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AgentRevokedError } from '../../agent/errors.js'
import { requestSignature } from '../../agent/requestSignature.js'
import { type StackWithAgent, auditEntries, eip3009, paymentPolicy, pool, stackWithAgent, verifyEip3009, waitAgentFloor } from '../helpers/agentClient.js'

const REQUESTS = 600
const IN_FLIGHT = 32
const REVOKE_AFTER = 150

type Outcome = {
  /** Started after the revocation's response had arrived. */
  startedAfterRevoke: boolean
  /** Finished (response received) after the revocation's response had arrived. */
  finishedAfterRevoke: boolean
  signed?: { signature: Hex; seq: number }
  error?: unknown
}

/** A revocation applied while a stream of requests is in flight stops every later one; the audit order proves it. */
describe('policy: revocation while requests are in flight (real host + enclave)', () => {
  let s: StackWithAgent
  beforeAll(async () => {
    s = await stackWithAgent(paymentPolicy({ perTx: '10', rolling24h: '1000000' }))
    await waitAgentFloor()
  })
  afterAll(async () => {
    await s?.stack.stop()
  })

  it('nothing is signed after the agent_revoked entry; every request sent after the revoke answer is refused agent_revoked', async () => {
    let revoked = false
    let finished = 0
    let revoking: Promise<unknown> | null = null
    const ops = Array.from({ length: REQUESTS }, () => eip3009({ wallet: s.wallet, value: 1n }))
    const outcomes = await pool(ops, IN_FLIGHT, async (operation): Promise<Outcome> => {
      const startedAfterRevoke = revoked
      const out: Outcome = { startedAfterRevoke, finishedAfterRevoke: false }
      try {
        const r = await requestSignature({ host: s.stack.url, agentKey: s.agentKey, wallet: s.wallet, operation })
        out.signed = { signature: r.signature, seq: (r.receipt as { seq: number }).seq }
      } catch (e) {
        out.error = e
      }
      out.finishedAfterRevoke = revoked
      if (++finished === REVOKE_AFTER) {
        revoking = s.client.act('RevokeAgent', s.wallet, { agentId: s.agentKey.agentId }).then(() => {
          revoked = true
        })
      }
      return out
    })
    await revoking
    expect(revoked).toBe(true)

    const entries = await auditEntries(s.stack.url, s.owner, { agent: s.agentKey.agentId })
    const revokedEntry = entries.find((e) => e.event === 'agent_revoked')
    expect(revokedEntry).toBeDefined()
    const revokedSeq = revokedEntry!.seq
    // Audit order: no sign_allowed for this agent after the agent_revoked entry, and every decision after it is agent_revoked.
    const after = entries.filter((e) => e.seq > revokedSeq)
    expect(after.length).toBeGreaterThan(0)
    expect(after.filter((e) => e.event === 'sign_allowed')).toEqual([])
    for (const e of after) expect(e.code).toBe('agent_revoked')
    const before = entries.filter((e) => e.seq < revokedSeq && e.event === 'sign_allowed')
    expect(before.length).toBeGreaterThanOrEqual(REVOKE_AFTER)

    const signed = outcomes.filter((o) => o.signed)
    expect(signed.length).toBe(before.length)
    for (const o of outcomes) {
      if (o.startedAfterRevoke) {
        expect(o.error).toBeInstanceOf(AgentRevokedError)
        expect(o.signed).toBeUndefined()
      }
      // A response that arrived after the revoke's answer may only carry a signature decided before the revocation.
      if (o.finishedAfterRevoke && o.signed) expect(o.signed.seq).toBeLessThan(revokedSeq)
      if (!o.signed) expect((o.error as { code?: string }).code).toBe('agent_revoked')
    }
    expect(outcomes.filter((o) => o.startedAfterRevoke).length).toBeGreaterThan(REQUESTS / 4)
    // Signatures returned before the revocation are real.
    for (const [i, o] of outcomes.entries()) if (o.signed) expect(await verifyEip3009(s.wallet, ops[i]!, o.signed.signature)).toBe(true)
  })
})
