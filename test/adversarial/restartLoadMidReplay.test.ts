import type { Hex, LocalAccount } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PROTOCOL_VERSION } from '../../shared/protocol/messages.js'
import {
  type AgentSignOk,
  type MaliciousHost,
  type SealedSnapshot,
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
 * Attack: restart a load (loadState again, allowed in `loading`) after part of the entries replayed, then finish it
 * on another snapshot or another cut of the log, hoping that half-replayed state survives or that the restart
 * rolls back further than a process restart could. Nothing of the first attempt survives (spends are counted
 * exactly once), an older snapshot than one already unsealed in this process is refused (`seal_version_rollback`),
 * a refused load cannot be finished (`state_invalid`), and the revoked agent stays revoked.
 */
describe('adversarial: restart a load midway through replay (real enclave)', () => {
  let host: MaliciousHost
  let owner: LocalAccount
  let wallet: Hex
  let agent: TestAgent
  let setup: SealedSnapshot
  let paid: string[]
  const pay = (value = 1000n) => signAgentRequest({ agent, wallet, operation: eip3009({ wallet, value }) })

  beforeAll(async () => {
    ;({ host, owner, wallet, agent } = await startWithAgent(paymentPolicy({ perTx: '1000', rolling24h: '3000' })))
    await host.waitAgentFloor()
    setup = host.latestSnapshot()!
    for (let i = 0; i < 2; i++) expect((await host.agentSign(pay())).ok).toBe(true)
    paid = host.entriesAfter(setup.auditSeq)
    expect(paid.length).toBe(2)
  })
  afterAll(async () => {
    await host?.stop()
  })

  it('replay one payment, restart the load on the same snapshot, replay both: counted once each (one more pays, then over)', async () => {
    await host.restartEnclave()
    expect((await host.call({ type: 'hello', protocolVersion: PROTOCOL_VERSION })).ok).toBe(true)
    expect((await host.call({ type: 'loadState', snapshot: setup.blob })).ok).toBe(true)
    expect((await host.call({ type: 'replayEntries', entries: paid.slice(0, 1) })).ok).toBe(true)
    expect((await host.call({ type: 'loadState', snapshot: setup.blob })).ok).toBe(true)
    // The chain restarted too: the second payment alone does not continue the snapshot's head.
    expect(refusalCode(await host.call({ type: 'replayEntries', entries: paid.slice(1) }))).toBe('audit_resume_gap')
    expect((await host.call({ type: 'replayEntries', entries: paid })).ok).toBe(true)
    expect((await host.call({ type: 'finishLoad' })).ok).toBe(true)
    await host.waitAgentFloor()
    const p = pay()
    const ok = await host.agentSign(p)
    expect(ok.ok).toBe(true)
    expect(await verifyPayment(wallet, p.parsed, (ok as { result: AgentSignOk }).result.signature)).toBe(true)
    const over = await host.agentSign(pay(1n))
    expect(refusalCode(over)).toBe('policy_daily_cap_exceeded')
    expect(hasSignature(over)).toBe(false)
  })

  it('revoke; load the revocation snapshot, then restart the load on the older one: seal_version_rollback, cannot finish, stays revoked', async () => {
    expect((await host.walletAct(owner, 'RevokeAgent', wallet, { agentId: agent.agentId })).ok).toBe(true)
    const revoked = host.latestSnapshot()!
    const older = host.snapshots.filter((s) => s.version < revoked.version).at(-1)!
    await host.restartEnclave()
    expect((await host.call({ type: 'hello', protocolVersion: PROTOCOL_VERSION })).ok).toBe(true)
    expect((await host.call({ type: 'loadState', snapshot: revoked.blob })).ok).toBe(true)
    expect(refusalCode(await host.call({ type: 'loadState', snapshot: older.blob }))).toBe('seal_version_rollback')
    expect(refusalCode(await host.call({ type: 'finishLoad' }))).toBe('state_invalid')
    expect(refusalCode(await host.call({ type: 'replayEntries', entries: host.entriesAfter(older.auditSeq).slice(0, 1) }))).toBe('state_invalid')
    expect((await host.call({ type: 'loadState', snapshot: revoked.blob })).ok).toBe(true)
    expect((await host.call({ type: 'finishLoad' })).ok).toBe(true)
    await host.waitAgentFloor()
    const r = await host.agentSign(pay(1n))
    expect(refusalCode(r)).toBe('agent_revoked')
    expect(hasSignature(r)).toBe(false)
  })
})
