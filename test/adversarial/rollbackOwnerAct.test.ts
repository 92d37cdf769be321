import type { Hex, LocalAccount } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AuditEntry } from '../../shared/audit/auditEntry.js'
import { PROTOCOL_VERSION } from '../../shared/protocol/messages.js'
import {
  type MaliciousHost,
  type SealedSnapshot,
  type TestAgent,
  eip3009,
  hasSignature,
  paymentPolicy,
  refusalCode,
  signAgentRequest,
  startWithAgent,
} from '../helpers/maliciousHost.js'

/**
 * Attack: the owner revokes an agent; the host restarts the enclave on the
 * snapshot from before the revocation. With the later entries (which hold
 * the revocation) the load is refused (`state_rollback_detected`, typed: no
 * host input halts the enclave, F2) and cannot be finished; the enclave stays
 * in 'loading' until a new load. Without them it is the snapshot
 * rollback of rollbackSnapshot.test.ts (residual, caught by the owner's seq).
 */
describe('adversarial: roll back past an owner act (revocation)', () => {
  let host: MaliciousHost
  let owner: LocalAccount
  let wallet: Hex
  let agent: TestAgent
  let beforeRevoke: SealedSnapshot
  let revoked: SealedSnapshot
  let lineage: string[]
  const pay = () => signAgentRequest({ agent, wallet, operation: eip3009({ wallet, value: 100n }) })

  beforeAll(async () => {
    ;({ host, owner, wallet, agent } = await startWithAgent(paymentPolicy({ perTx: '5000', rolling24h: '100000' })))
    await host.waitAgentFloor()
    expect((await host.agentSign(pay())).ok).toBe(true)
    beforeRevoke = host.latestSnapshot()!
    const r = await host.walletAct(owner, 'RevokeAgent', wallet, { agentId: agent.agentId })
    expect(r.ok).toBe(true)
    revoked = host.latestSnapshot()!
    expect(revoked.version).toBeGreaterThan(beforeRevoke.version)
    expect(refusalCode(await host.agentSign(pay()))).toBe('agent_revoked')
    lineage = [...host.entries]
  })
  afterAll(async () => {
    await host?.stop()
  })

  it('old snapshot + the entries after it (revocation included) → state_rollback_detected; nothing signs, on any connection', async () => {
    await host.restartEnclave()
    const later = host.entriesAfter(beforeRevoke.auditSeq, lineage)
    expect(later.some((t) => (JSON.parse(t) as AuditEntry).event === 'agent_revoked')).toBe(true)
    const { steps, last } = await host.bootstrap({ snapshot: beforeRevoke.blob, entries: later })
    expect(steps.map((s) => s.ok)).toEqual([true, true, false])
    expect(refusalCode(last)).toBe('state_rollback_detected')
    // The refused load cannot be finished or continued (the chain had moved on): only a new load.
    expect(refusalCode(await host.call({ type: 'finishLoad' }))).toBe('state_invalid')
    expect(refusalCode(await host.call({ type: 'replayEntries', entries: later.slice(-1) }))).toBe('state_invalid')
    const r = await host.agentSign(pay())
    expect(refusalCode(r)).toBe('enclave_not_ready')
    expect(hasSignature(r)).toBe(false)
    const conn2 = await host.connect()
    const h = await conn2.call({ type: 'hello', protocolVersion: PROTOCOL_VERSION })
    expect(h.ok && (h.result as { phase: string }).phase).toBe('loading')
    const r2 = await host.agentSign(pay(), conn2)
    expect(refusalCode(r2)).toBe('enclave_not_ready')
    expect(hasSignature(r2)).toBe(false)
    conn2.close()
    // Loaded again (no restart) on the revocation snapshot: the agent stays revoked.
    const again = await host.bootstrap({ snapshot: revoked.blob, entries: host.entriesAfter(revoked.auditSeq, lineage) })
    expect(again.last.ok).toBe(true)
    await host.waitAgentFloor()
    const r3 = await host.agentSign(pay())
    expect(refusalCode(r3)).toBe('agent_revoked')
    expect(hasSignature(r3)).toBe(false)
  })

  it('the same with only the revocation entry kept (agent entries dropped) → refused (gap), never ready', async () => {
    await host.restartEnclave()
    const revokeEntry = lineage.filter((t) => (JSON.parse(t) as AuditEntry).event === 'agent_revoked')
    const { last } = await host.bootstrap({ snapshot: beforeRevoke.blob, entries: revokeEntry })
    expect(refusalCode(last)).toBe('audit_resume_gap')
    const r = await host.agentSign(pay())
    expect(refusalCode(r)).toBe('enclave_not_ready')
    expect(hasSignature(r)).toBe(false)
  })

  it('honest restart on the revocation snapshot: the agent stays revoked', async () => {
    await host.restartEnclave()
    const { last } = await host.bootstrap({ snapshot: revoked.blob, entries: host.entriesAfter(revoked.auditSeq, lineage) })
    expect(last.ok).toBe(true)
    await host.waitAgentFloor()
    const r = await host.agentSign(pay())
    expect(refusalCode(r)).toBe('agent_revoked')
    expect(hasSignature(r)).toBe(false)
  })

  it('RESIDUAL: old snapshot with the revocation dropped resurrects the agent until the owner’s next act → state_rollback_detected', async () => {
    await host.restartEnclave()
    const revokeSeq = (JSON.parse(lineage.find((t) => (JSON.parse(t) as AuditEntry).event === 'agent_revoked')!) as AuditEntry).seq
    const cut = host.entriesAfter(beforeRevoke.auditSeq, lineage).filter((t) => (JSON.parse(t) as AuditEntry).seq < revokeSeq)
    const { last } = await host.bootstrap({ snapshot: beforeRevoke.blob, entries: cut })
    expect(last.ok).toBe(true)
    await host.waitAgentFloor()
    // Documented residual risk: on the rolled-back state the revoked agent signs again.
    expect((await host.agentSign(pay())).ok).toBe(true)
    // The owner's next act carries the seq the owner knows (the revocation was seq 3) + 1.
    const act = await host.ownerAct({
      account: owner,
      primaryType: 'FreezeAgent',
      message: { wallet, agentId: agent.agentId, frozen: true, seq: '4' },
    })
    expect(refusalCode(act)).toBe('state_rollback_detected')
    const r = await host.agentSign(pay())
    expect(refusalCode(r)).toBe('wallet_rolled_back')
    expect(hasSignature(r)).toBe(false)
    // Resync restores signing, not the lost acts: the owner revokes again.
    expect((await host.ownerAct({ account: owner, primaryType: 'Resync', message: { wallet, seq: '5' } })).ok).toBe(true)
    const again = await host.ownerAct({ account: owner, primaryType: 'RevokeAgent', message: { wallet, agentId: agent.agentId, seq: '6' } })
    expect(again.ok).toBe(true)
    expect(refusalCode(await host.agentSign(pay()))).toBe('agent_revoked')
  })
})
