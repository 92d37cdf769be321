import { afterAll, describe, expect, it } from 'vitest'
import { RequestOutcomeUnknownError } from '../../agent/errors.js'
import { requestSignature } from '../../agent/requestSignature.js'
import type { AuditEntry } from '../../shared/audit/auditEntry.js'
import { auditEntries, eip3009, paymentPolicy, verifyEip3009 } from '../helpers/agentClient.js'
import { stackWithAgentPerFile } from '../helpers/stackWithAgentPerFile.js'

const AMOUNT = 1_000n
const CAP_PAYMENTS = 40
const ABANDONED = 32
const PATIENT = 8
const AGENT_TIMEOUT_MS = 3_000
const STALL_MS = 4_500

/**
 * Attack (or a stalled machine): the enclave's process is stopped (SIGSTOP) for longer than the agents' timeout
 * while 32 payments are in flight. The agents give up; on resuming, the enclave must not sign (or count) any request
 * past its deadline: each is refused `request_expired` and audited. Requests whose deadline is still ahead are
 * signed. Afterwards the cap is still reached exactly.
 */
describe('adversarial: a stalled writer must not sign requests their agents abandoned', () => {
  const s = stackWithAgentPerFile(paymentPolicy({ perTx: AMOUNT.toString(), rolling24h: (AMOUNT * BigInt(CAP_PAYMENTS)).toString() }))
  // Runs before the stop: a stopped enclave would not exit on SIGTERM.
  afterAll(() => {
    if (s.stack?.enclave.pid) process.kill(s.stack.enclave.pid, 'SIGCONT')
  })

  it(`SIGSTOP ${STALL_MS} ms > agent timeout ${AGENT_TIMEOUT_MS} ms: ${ABANDONED} abandoned requests are refused request_expired, none signed; the cap holds exactly`, async () => {
    const pay = (timeoutMs: number) => {
      const operation = eip3009({ wallet: s.wallet, value: AMOUNT })
      return requestSignature({ host: s.stack.url, agentKey: s.agentKey, wallet: s.wallet, operation, timeoutMs }).then(
        (r) => ({ ok: true as const, r, operation }),
        (e: unknown) => ({ ok: false as const, e, operation }),
      )
    }
    const pid = s.stack.enclave.pid!
    const mark = (await auditEntries(s.stack.url, s.owner, { agent: s.agentKey.agentId })).length
    process.kill(pid, 'SIGSTOP')
    let resumed = false
    const resume = setTimeout(() => {
      process.kill(pid, 'SIGCONT')
      resumed = true
    }, STALL_MS)
    try {
      const abandoned = Array.from({ length: ABANDONED }, () => pay(AGENT_TIMEOUT_MS))
      const patient = Array.from({ length: PATIENT }, () => pay(20_000))
      const gaveUp = await Promise.all(abandoned)
      // The agents gave up while the enclave was still stopped: each knows its request id and that it may be signed.
      expect(resumed).toBe(false)
      for (const g of gaveUp) {
        expect(g.ok).toBe(false)
        expect(g.ok ? null : g.e).toBeInstanceOf(RequestOutcomeUnknownError)
      }
      const ids = gaveUp.map((g) => (g.ok ? '' : (g.e as RequestOutcomeUnknownError).requestId))
      const waited = await Promise.all(patient)
      expect(resumed).toBe(true)
      for (const w of waited) {
        expect(w.ok).toBe(true)
        if (w.ok) expect(await verifyEip3009(s.wallet, w.operation, w.r.signature)).toBe(true)
      }

      // The audit: one request_expired refusal per abandoned request, nothing signed or counted for them.
      const entries = (await auditEntries(s.stack.url, s.owner, { agent: s.agentKey.agentId })).slice(mark)
      const byId = new Map(entries.map((e: AuditEntry) => [e.requestId, e]))
      for (const id of ids) {
        const e = byId.get(id)
        expect(e?.event).toBe('sign_denied')
        expect(e?.code).toBe('request_expired')
        expect(e?.signedHash).toBeNull()
        expect(e?.ledger).toEqual([])
      }
      expect(entries.filter((e) => e.event === 'sign_allowed')).toHaveLength(PATIENT)
      expect(entries.filter((e) => e.code === 'request_expired')).toHaveLength(ABANDONED)

      // The owner's view of one abandoned request: refused request_expired.
      const res = await fetch(`${s.stack.url}/v1/audit/entries?request=${ids[0]}`, { headers: { authorization: `Bearer ${s.stack.auditToken}` } })
      const page = (await res.json()) as { answers: { signed: boolean; code: string | null }[] }
      expect(page.answers[0]).toMatchObject({ signed: false, code: 'request_expired' })

      // After resuming, later requests reach the cap exactly: PATIENT + these = CAP_PAYMENTS, then a refusal.
      const later = await Promise.all(Array.from({ length: CAP_PAYMENTS - PATIENT + 4 }, () => pay(20_000)))
      const signed = later.filter((l) => l.ok)
      expect(signed).toHaveLength(CAP_PAYMENTS - PATIENT)
      for (const l of later.filter((x) => !x.ok)) expect((l as { e: { code: string } }).e.code).toBe('policy_daily_cap_exceeded')
    } finally {
      clearTimeout(resume)
      if (!resumed) process.kill(pid, 'SIGCONT')
    }
  }, 120_000)
})
