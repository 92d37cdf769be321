import type { Hex } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ResponseFrame } from '../../shared/protocol/messages.js'
import {
  type AgentSignOk,
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

const seqOf = (t: string) => (JSON.parse(t) as { seq: number }).seq
const within = <T>(p: Promise<T>, ms: number): Promise<T | 'never'> =>
  Promise.race([p, new Promise<'never'>((r) => setTimeout(() => r('never'), ms).unref())])

/**
 * Attack: the host asks `catchUp` while payments are being signed and later answers (denials) wait for them
 * (releaseInOrder). The catchUp answer re-sends those in-flight entries and releases through its last seq; a waiting
 * answer below that was never let go (and a catchUp waiting at the same first seq overwrote it): the agent's answer —
 * a signature counted against its budget — never left the enclave. Every answer must leave, in seq order, with no
 * signature outside policy; honest traffic resumes.
 */
describe('adversarial: catchUp while answers wait in seq order (real enclave)', () => {
  let host: MaliciousHost
  let wallet: Hex
  let agent: TestAgent
  const pay = (value: bigint) => signAgentRequest({ agent, wallet, operation: eip3009({ wallet, value }) })

  beforeAll(async () => {
    ;({ host, wallet, agent } = await startWithAgent(paymentPolicy({ perTx: '1000', rolling24h: '1000000000' })))
    await host.waitAgentFloor()
  })
  afterAll(async () => {
    await host?.stop()
  })

  it('payments and denials pipelined, a catchUp in between (every delay): every answer leaves; none outside policy', async () => {
    const stuck: string[] = []
    for (const delay of [0, 0, 1, 1, 2, 3, 5, 8]) {
      const storedThrough = Math.max(...host.entries.map(seqOf))
      const reqs = Array.from({ length: 24 }, (_, i) => (i % 3 === 2 ? { deny: true, r: pay(5000n) } : { deny: false, r: pay(1n) }))
      const answers = reqs.map(({ r }) => host.agentSign(r))
      await new Promise((r) => setTimeout(r, delay))
      const cu = host.call({ type: 'catchUp', storedThrough, snapshotVersion: host.latestSnapshot()!.version })
      const cu2 = host.call({ type: 'catchUp', storedThrough: storedThrough + 2, snapshotVersion: host.latestSnapshot()!.version })
      const got = await Promise.all(answers.map((a) => within(a, 6_000)))
      for (const [k, c] of [cu, cu2].entries()) {
        const a = await within(c, 6_000)
        if (a === 'never') stuck.push(`delay ${delay} catchUp ${k}`)
        else expect(a.ok).toBe(true)
      }
      for (const [i, g] of got.entries()) {
        if (g === 'never') {
          stuck.push(`delay ${delay} #${i}`)
          continue
        }
        const { deny, r } = reqs[i]!
        if (deny) {
          expect(refusalCode(g as ResponseFrame)).toBe('policy_per_tx_cap_exceeded')
          expect(hasSignature(g as ResponseFrame)).toBe(false)
        } else {
          expect((g as ResponseFrame).ok).toBe(true)
          const res = (g as ResponseFrame & { result: AgentSignOk }).result
          expect(await verifyPayment(wallet, r.parsed, res.signature)).toBe(true)
          expect((g as ResponseFrame).persist!.entries.map(seqOf)).toContain(res.receipt.seq) // its entry travels with it
        }
      }
    }
    expect(stuck).toEqual([])
  }, 120_000)

  it('afterwards honest traffic resumes: one payment signs, its entry in its answer', async () => {
    const p = pay(1n)
    const ok = await within(host.agentSign(p), 6_000)
    expect(ok !== 'never' && ok.ok).toBe(true)
    expect(await verifyPayment(wallet, p.parsed, ((ok as ResponseFrame & { result: AgentSignOk }).result).signature)).toBe(true)
  })
})
