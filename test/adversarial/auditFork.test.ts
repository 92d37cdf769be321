import type { Hex, LocalAccount } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AuditEntry } from '../../shared/audit/auditEntry.js'
import { verifyAuditLog } from '../../shared/audit/verifyAuditLog.js'
import { auditLogOf } from '../helpers/auditLogOf.js'
import {
  type AgentSignOk,
  type MaliciousHost,
  type TestAgent,
  type SealedSnapshot,
  eip3009,
  hasSignature,
  paymentPolicy,
  refusalCode,
  signAgentRequest,
  startWithAgent,
  verifyPayment,
} from '../helpers/maliciousHost.js'

/**
 * Attack: the host forks the audit chain — it restarts the enclave on its
 * newest snapshot without the entries after it (here: refusals, so no spend
 * is forgotten; forgotten spends are rollbackSnapshot's residual risk), and
 * the enclave writes a second branch at the same seqs. Two checkpoints for
 * one seq, both signed by the attested receipt key, prove the fork offline
 * (`audit_fork`); a log stitched from both branches does not load into the
 * enclave (`audit_resume_mismatch`); no signature outside policy is produced;
 * honest traffic continues on the surviving branch.
 */
describe('adversarial: audit fork (real enclave, offline verifier)', () => {
  let host: MaliciousHost
  let owner: LocalAccount
  let wallet: Hex
  let agent: TestAgent
  let publicKey: string
  let snap: SealedSnapshot
  let branchA: string[]
  const pay = (value: bigint) => signAgentRequest({ agent, wallet, operation: eip3009({ wallet, value }) })

  beforeAll(async () => {
    ;({ host, owner, wallet, agent } = await startWithAgent(paymentPolicy({ perTx: '1000', rolling24h: '100000' })))
    publicKey = ((await host.call({ type: 'attest', nonce: null })) as { result: { receiptPublicKey: string } }).result.receiptPublicKey
    snap = host.latestSnapshot()!
    await host.waitAgentFloor()
    // Branch A after the snapshot: two refusals (over the per-tx cap), each with a signed checkpoint.
    for (let i = 0; i < 2; i++) expect(refusalCode(await host.agentSign(pay(5000n)))).toBe('policy_per_tx_cap_exceeded')
    branchA = host.entriesAfter(snap.auditSeq)
    expect(branchA.length).toBe(2)
  })
  afterAll(async () => {
    await host?.stop()
  })

  let branchB: string[]

  it('restarted on the snapshot without branch A, the enclave writes branch B at the same seqs', async () => {
    const checkpointsA = host.checkpoints.length
    await host.restartEnclave()
    expect((await host.bootstrap({ snapshot: snap.blob, entries: [] })).last.ok).toBe(true)
    await host.waitAgentFloor()
    const req = pay(10n)
    const r = await host.agentSign(req)
    expect(r.ok).toBe(true)
    expect(await verifyPayment(wallet, req.parsed, (r as { result: AgentSignOk }).result.signature)).toBe(true)
    branchB = host.entries.slice(host.entries.length - 2) // state_loaded + the payment
    const seqsA = branchA.map((t) => (JSON.parse(t) as AuditEntry).seq)
    const seqsB = branchB.map((t) => (JSON.parse(t) as AuditEntry).seq)
    expect(seqsB).toEqual(seqsA)
    expect(host.checkpoints.length).toBeGreaterThan(checkpointsA)
  })

  it('two signed checkpoints for one seq → audit_fork; each branch alone verifies', () => {
    const prefix = host.entries.filter((t) => (JSON.parse(t) as AuditEntry).seq <= snap.auditSeq).slice(0, snap.auditSeq + 1)
    const seqA = (JSON.parse(branchA.at(-1)!) as AuditEntry).seq
    const cpA = host.checkpoints.filter((c) => c.seq === seqA)
    expect(new Set(cpA.map((c) => c.head)).size).toBe(2)
    const logB = auditLogOf([...prefix, ...branchB])
    const cpB = cpA.filter((c) => c.head === logB.hashes.at(-1))
    expect(verifyAuditLog({ ...logB, checkpoints: cpB, publicKey }).ok).toBe(true)
    expect(verifyAuditLog({ ...auditLogOf([...prefix, ...branchA]), checkpoints: cpA.filter((c) => c !== cpB[0]), publicKey }).ok).toBe(true)
    // The branch's own signed head first, then the other branch's head for the same seq.
    expect(verifyAuditLog({ ...logB, checkpoints: [...cpB, ...cpA.filter((c) => c !== cpB[0])], publicKey })).toMatchObject({ ok: false, code: 'audit_fork' })
  })

  it('a log stitched from both branches does not load (audit_resume_mismatch); the surviving branch does and signs within policy', async () => {
    await host.restartEnclave()
    const stitched = [branchA[0]!, branchB[1]!]
    const bad = await host.bootstrap({ snapshot: snap.blob, entries: stitched })
    expect(refusalCode(bad.last)).toBe('audit_resume_mismatch')
    const none = await host.agentSign(pay(10n))
    expect(hasSignature(none)).toBe(false)
    // Branch B replayed onto the OLD snapshot: its state_loaded entry cannot follow that snapshot. A typed refusal
    // (state_invalid, never enclave_halted: F2), nothing signs, the enclave stays in 'loading', the refused load
    // cannot be finished, and it loads again without a restart.
    await host.restartEnclave()
    const mixed = await host.bootstrap({ snapshot: snap.blob, entries: branchB })
    expect(refusalCode(mixed.last)).toBe('state_invalid')
    expect(refusalCode(await host.agentSign(pay(10n)))).toBe('enclave_not_ready')
    expect(hasSignature(await host.agentSign(pay(10n)))).toBe(false)
    const hello = await host.call({ type: 'hello', protocolVersion: 1 })
    expect((hello as { result: { phase: string } }).result.phase).toBe('loading')
    expect(refusalCode(await host.call({ type: 'finishLoad' }))).toBe('state_invalid')
    // The surviving branch as an honest host keeps it: its own post-load snapshot and the entries after it.
    const snapB = host.latestSnapshot()!
    const afterB = branchB.filter((t) => (JSON.parse(t) as AuditEntry).seq > snapB.auditSeq)
    expect((await host.bootstrap({ snapshot: snapB.blob, entries: afterB })).last.ok).toBe(true)
    await host.waitAgentFloor()
    expect(refusalCode(await host.agentSign(pay(5000n)))).toBe('policy_per_tx_cap_exceeded')
    const act = await host.walletAct(owner, 'FreezeAgent', wallet, { agentId: agent.agentId, frozen: false })
    expect(act.ok).toBe(true)
    const req = pay(1000n)
    const r = await host.agentSign(req)
    expect(r.ok).toBe(true)
    expect(await verifyPayment(wallet, req.parsed, (r as { result: AgentSignOk }).result.signature)).toBe(true)
  })
})
