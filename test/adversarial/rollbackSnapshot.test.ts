import type { Hex, LocalAccount } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AuditEntry } from '../../shared/audit/auditEntry.js'
import { verifyAuditLog } from '../../shared/audit/verifyAuditLog.js'
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

const CAP = 10_000n
const AMOUNT = 2_000n

/**
 * Attack: spend up to the cap, then restart the enclave on a snapshot taken
 * before the spends, without the entries that record them. RESIDUAL RISK by
 * design (no monotonic counter in Nitro): the forgotten budget is spendable
 * again. This test pins down exactly what restores safety: the high-water
 * marks held outside the host (receipts → verifyAuditLog({ sinceHead }),
 * the owner's seq → state_rollback_detected, signing stops until Resync).
 */
describe('adversarial: rollback to an older sealed snapshot (residual risk, detected)', () => {
  let host: MaliciousHost
  let owner: LocalAccount
  let wallet: Hex
  let agent: TestAgent
  let before: SealedSnapshot
  let entriesToBefore: string[]
  let highWater: AgentSignOk['receipt']
  let ownerKnows: number
  const pay = () => signAgentRequest({ agent, wallet, operation: eip3009({ wallet, value: AMOUNT }) })

  beforeAll(async () => {
    ;({ host, owner, wallet, agent } = await startWithAgent(paymentPolicy({ perTx: '5000', rolling24h: CAP.toString() })))
    before = host.latestSnapshot()!
    entriesToBefore = host.entries.filter((t) => (JSON.parse(t) as AuditEntry).seq <= before.auditSeq)
    await host.waitAgentFloor()
    for (let i = 0; i < Number(CAP / AMOUNT); i++) {
      const req = pay()
      const r = await host.agentSign(req)
      expect(r.ok).toBe(true)
      const res = (r as { result: AgentSignOk }).result
      expect(await verifyPayment(wallet, req.parsed, res.signature)).toBe(true)
      highWater = res.receipt
    }
    const capped = await host.agentSign(pay())
    expect(refusalCode(capped)).toBe('policy_daily_cap_exceeded')
    // The owner acts once more after the spends (sealed at once); the owner now knows ownerSeq = 3.
    const act = await host.walletAct(owner, 'FreezeAgent', wallet, { agentId: agent.agentId, frozen: false })
    expect(act.ok).toBe(true)
    ownerKnows = await host.ownerSeq(wallet)
    expect(ownerKnows).toBe(3)
  })
  afterAll(async () => {
    await host?.stop()
  })

  let rolledReady: { receiptPublicKey: Hex; auditHead: { seq: number; hash: string } }
  let forkedReceipt: AgentSignOk['receipt']

  it('RESIDUAL: on the old snapshot without the later entries, the enclave signs past the cap', async () => {
    await host.restartEnclave()
    const { last } = await host.bootstrap({ snapshot: before.blob, entries: [] })
    expect(last.ok).toBe(true)
    rolledReady = (last as { result: typeof rolledReady }).result
    await host.waitAgentFloor()
    const req = pay()
    const r = await host.agentSign(req)
    // This is the documented residual risk: total signed is now CAP + AMOUNT.
    expect(r.ok).toBe(true)
    const res = (r as { result: AgentSignOk }).result
    expect(await verifyPayment(wallet, req.parsed, res.signature)).toBe(true)
    forkedReceipt = res.receipt
    // What the agent sees at once: a receipt whose seq is not above the last one it holds.
    expect(forkedReceipt.seq).toBeLessThanOrEqual(highWater.seq)
    expect(forkedReceipt.checkpoint.head).not.toBe(highWater.checkpoint.head)
  })

  it("the agent's/auditor's high-water mark detects it: verifyAuditLog({ sinceHead }) → audit_rollback; both signed heads → audit_fork", async () => {
    // The log the lying host now serves: the old prefix plus the new branch.
    const branch = host.entries.filter((t) => {
      const e = JSON.parse(t) as AuditEntry
      return e.seq > before.auditSeq && e.time >= host.spawnedAt
    })
    const texts = [...entriesToBefore, ...branch]
    const entries = texts.map((t) => {
      const { hash: _h, mac: _m, ...e } = JSON.parse(t) as AuditEntry & { hash: string; mac?: string }
      return e as AuditEntry
    })
    const hashes = texts.map((t) => (JSON.parse(t) as { hash: string }).hash)
    const publicKey = rolledReady.receiptPublicKey
    // Internally consistent on its own: without a high-water mark nothing looks wrong.
    const alone = verifyAuditLog({ entries, hashes, checkpoints: [forkedReceipt.checkpoint], publicKey })
    expect(alone.ok).toBe(true)
    // With the head the agent's last receipt proved, the rollback shows.
    const seen = verifyAuditLog({
      entries,
      hashes,
      checkpoints: [forkedReceipt.checkpoint],
      publicKey,
      sinceHead: { seq: highWater.checkpoint.seq, hash: highWater.checkpoint.head },
    })
    expect(seen.ok).toBe(false)
    expect(!seen.ok && seen.code).toBe('audit_rollback')
    // Two checkpoints at the same seq, both signed by the same attested receipt key: a proof of the fork.
    const oldAtSameSeq = host.checkpoints.find(
      (c) => c.seq === forkedReceipt.checkpoint.seq && c.head !== forkedReceipt.checkpoint.head,
    )
    expect(oldAtSameSeq).toBeDefined()
    const fork = verifyAuditLog({ entries, hashes, checkpoints: [forkedReceipt.checkpoint, oldAtSameSeq!], publicKey })
    expect(!fork.ok && fork.code).toBe('audit_fork')
    // Any old signed checkpoint the agent kept also contradicts the served log.
    const stale = verifyAuditLog({ entries, hashes, checkpoints: [highWater.checkpoint], publicKey })
    expect(stale.ok).toBe(false)
  })

  it("the owner's next act (seq ahead) → state_rollback_detected; the wallet signs nothing until Resync", async () => {
    const act = await host.ownerAct({
      account: owner,
      primaryType: 'FreezeAgent',
      message: { wallet, agentId: agent.agentId, frozen: false, seq: String(ownerKnows + 1) },
    })
    expect(refusalCode(act)).toBe('state_rollback_detected')
    // The detection itself is audited and sealed.
    const flagged = host.entries.map((t) => JSON.parse(t) as AuditEntry).filter((e) => e.code === 'state_rollback_detected')
    expect(flagged.length).toBe(1)
    expect((await host.wallets()).find((w) => w.address === wallet)!.rolledBack).toBe(true)

    for (let i = 0; i < 3; i++) {
      const r = await host.agentSign(pay())
      expect(refusalCode(r)).toBe('wallet_rolled_back')
      expect(hasSignature(r)).toBe(false)
    }
    const retry = await host.ownerAct({
      account: owner,
      primaryType: 'FreezeAgent',
      message: { wallet, agentId: agent.agentId, frozen: true, seq: String(ownerKnows + 2) },
    })
    expect(refusalCode(retry)).toBe('wallet_rolled_back')

    // The stop survives a restart on the snapshot that recorded it.
    await host.restartEnclave()
    expect((await host.bootstrap({ snapshot: host.latestSnapshot()!.blob })).last.ok).toBe(true)
    await host.waitAgentFloor()
    const still = await host.agentSign(pay())
    expect(refusalCode(still)).toBe('wallet_rolled_back')
    expect(hasSignature(still)).toBe(false)

    // The owner resyncs (after reviewing the audit log): signing resumes.
    const resync = await host.ownerAct({ account: owner, primaryType: 'Resync', message: { wallet, seq: String(ownerKnows + 3) } })
    expect(resync.ok).toBe(true)
    expect((await host.agentSign(pay())).ok).toBe(true)
  })
})
