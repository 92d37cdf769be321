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
 * payment still counts against the budget, a late request is stale. The
 * enclave keeps the entries it cannot know are stored: a host that
 * (re)connects asks `catchUp` and gets them back byte for byte, so the
 * restart on the stored log reloads with the dropped spend still counted
 * (an honest host that crashed between the enclave's answer and its own
 * write is exactly this case: SECURITY.md F1, hostCrashBeforePersist). A host
 * that keeps the hole anyway gets a typed refusal (`audit_resume_gap`), the
 * enclave stays in `loading` and loads again on the complete log. A host that
 * drops the TAIL instead is the rollback residual risk (see rollbackSnapshot).
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

  const seqOf = (t: string) => (JSON.parse(t) as AuditEntry).seq

  it('restart on the stored log with the dropped entries missing: a reconnecting host catches up (catchUp) and the log reloads', async () => {
    // A new host connection to the running enclave (what a restarted host does) says what it has stored: the entries
    // up to the hole, and its newest snapshot. The enclave re-sends what it kept after that, the dropped entries first.
    const holeAt = seqOf(dropped[0]!)
    const conn = await host.connect()
    const r = await conn.call({ type: 'catchUp', storedThrough: holeAt - 1, snapshotVersion: host.latestSnapshot()!.version })
    conn.close()
    expect(r.ok).toBe(true)
    expect((r as { result: { resent: number } }).result.resent).toBe(r.persist!.entries.length)
    expect(r.persist!.entries.slice(0, dropped.length)).toEqual(dropped)
    // Store as the honest host does: once per seq (the re-sent entries after the hole are the same bytes).
    const bySeq = new Map<number, string>()
    for (const t of host.entries) if (!bySeq.has(seqOf(t)) || bySeq.get(seqOf(t)) === t) bySeq.set(seqOf(t), t)
    expect(host.entries.every((t) => bySeq.get(seqOf(t)) === t)).toBe(true) // no second text at any seq: no fork
    host.entries.splice(0, host.entries.length, ...[...bySeq.values()].sort((a, b) => seqOf(a) - seqOf(b)))
    // Restart on the snapshot from before the hole and the stored log: it loads, and the dropped payment still counts.
    await host.restartEnclave()
    const snap = host.snapshots.filter((x) => x.auditSeq < holeAt).at(-1)!
    const { last } = await host.bootstrap({ snapshot: snap.blob, entries: host.entriesAfter(snap.auditSeq) })
    expect(last.ok).toBe(true)
    await host.waitAgentFloor()
    const over = await host.agentSign(pay(1n))
    expect(refusalCode(over)).toBe('policy_daily_cap_exceeded')
    expect(hasSignature(over)).toBe(false)
  })

  it('a host that keeps the hole: audit_resume_gap (typed), nothing signs, the enclave stays in loading and loads again', async () => {
    const holeAt = seqOf(dropped[0]!)
    await host.restartEnclave()
    const snap = host.snapshots.filter((x) => x.auditSeq < holeAt).at(-1)!
    const holed = host.entriesAfter(snap.auditSeq).filter((t) => !dropped.includes(t))
    const { last } = await host.bootstrap({ snapshot: snap.blob, entries: holed })
    expect(refusalCode(last)).toBe('audit_resume_gap')
    const r = await host.agentSign(pay(1n))
    expect(refusalCode(r)).toBe('enclave_not_ready')
    expect(hasSignature(r)).toBe(false)
    const h = await host.call({ type: 'hello', protocolVersion: 1 })
    expect((h as { result: { phase: string } }).result.phase).toBe('loading')
  })

  it('with the dropped entries back the log loads (a new loadState, no restart): the budget is intact and honest traffic resumes', async () => {
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
