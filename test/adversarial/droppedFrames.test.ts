import type { Hex, LocalAccount } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AuditEntry } from '../../shared/audit/auditEntry.js'
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

/**
 * Attack: the host drops frames — a response it never relays (and whose
 * persist block it never stores), a request it holds back and delivers late.
 * While the enclave runs nothing is signed outside policy and its state stays
 * consistent: the agent's resend gets no second signature, the dropped
 * payment still counts against the budget, a late request is stale. After a
 * restart, a log with the dropped entries missing in the middle does not
 * load (`audit_resume_gap`: fail closed); with them it loads and traffic
 * resumes. A host that drops the TAIL instead is the rollback residual risk
 * (see rollbackSnapshot) — and an honest host that crashes between the
 * enclave's answer and its own write leaves exactly such a hole (SECURITY.md).
 */
describe('adversarial: dropped frames (real enclave)', () => {
  let host: MaliciousHost
  let owner: LocalAccount
  let wallet: Hex
  let agent: TestAgent
  const pay = (value = 1000n, issuedAt?: number) => signAgentRequest({ agent, wallet, operation: eip3009({ wallet, value }), ...(issuedAt ? { issuedAt } : {}) })
  let dropped: string[] = []

  beforeAll(async () => {
    ;({ host, owner, wallet, agent } = await startWithAgent(paymentPolicy({ perTx: '1000', rolling24h: '3000' })))
    await host.waitAgentFloor()
  })
  afterAll(async () => {
    await host?.stop()
  })

  it('a dropped response (never relayed, never stored): the resend gets no second signature; the budget still counts it', async () => {
    const req = pay()
    const mark = host.entries.length
    const r = await host.agentSign(req)
    expect(r.ok).toBe(true) // the enclave signed; the host throws the answer and its persist block away
    dropped = host.entries.splice(mark)
    expect(dropped.length).toBeGreaterThan(0)
    const again = await host.agentSign(req)
    expect(refusalCode(again)).toBe('request_replayed')
    expect(hasSignature(again)).toBe(false)
    // Cap 3000: the dropped 1000 counts, so two more sign and a third is over.
    for (let i = 0; i < 2; i++) {
      const p = pay()
      const ok = await host.agentSign(p)
      expect(ok.ok).toBe(true)
      expect(await verifyPayment(wallet, p.parsed, (ok as { result: AgentSignOk }).result.signature)).toBe(true)
    }
    const over = await host.agentSign(pay())
    expect(refusalCode(over)).toBe('policy_daily_cap_exceeded')
    expect(hasSignature(over)).toBe(false)
  })

  it('a request held back and delivered late → request_stale, no signature', async () => {
    const late = pay(1n, Date.now() - 60 * 60_000)
    const r = await host.agentSign(late)
    expect(refusalCode(r)).toBe('request_stale')
    expect(hasSignature(r)).toBe(false)
  })

  it('restart on the stored log with the dropped entries missing (a hole) → audit_resume_gap, nothing signs', async () => {
    await host.restartEnclave()
    const snap = host.snapshots.filter((s) => s.auditSeq < (JSON.parse(dropped[0]!) as AuditEntry).seq).at(-1)!
    const { last } = await host.bootstrap({ snapshot: snap.blob, entries: host.entriesAfter(snap.auditSeq) })
    expect(refusalCode(last)).toBe('audit_resume_gap')
    const r = await host.agentSign(pay(1n))
    expect(refusalCode(r)).toBe('enclave_not_ready')
    expect(hasSignature(r)).toBe(false)
  })

  it('with the dropped entries back the log loads: the budget is intact and honest traffic resumes', async () => {
    host.entries.push(...dropped)
    host.entries.sort((a, b) => (JSON.parse(a) as AuditEntry).seq - (JSON.parse(b) as AuditEntry).seq)
    await host.restartEnclave()
    expect((await host.bootstrapHonest()).ok).toBe(true)
    await host.waitAgentFloor()
    expect(refusalCode(await host.agentSign(pay(1n)))).toBe('policy_daily_cap_exceeded')
    // The owner credits 1000 back (owner-signed): an honest payment signs and verifies.
    const credit = await host.walletAct(owner, 'CreditBudget', wallet, { agentId: agent.agentId, chainId: '84532', asset: '0x036CbD53842c5426634e7929541eC2318f3dCF7e', amount: '1000' })
    expect(credit.ok).toBe(true)
    const p = pay()
    const r = await host.agentSign(p)
    expect(r.ok).toBe(true)
    expect(await verifyPayment(wallet, p.parsed, (r as { result: AgentSignOk }).result.signature)).toBe(true)
  })
})
