import type { Hex, LocalAccount } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AuditEntry } from '../../shared/audit/auditEntry.js'
import { signOwnerAct } from '../../shared/owner/signOwnerAct.js'
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
 * Attack: the host delivers frames out of order — a batch of payments
 * reversed and shuffled, two owner acts swapped, audit entries swapped at
 * bootstrap. Payments are independent (each nonce once; the cap holds in any
 * order); owner acts carry seq, so the later one first reads as a rollback
 * (fail closed until the owner resyncs); swapped entries do not load.
 */
describe('adversarial: reordered frames (real enclave)', () => {
  let host: MaliciousHost
  let owner: LocalAccount
  let wallet: Hex
  let agent: TestAgent
  const pay = (value: bigint) => signAgentRequest({ agent, wallet, operation: eip3009({ wallet, value }) })

  beforeAll(async () => {
    ;({ host, owner, wallet, agent } = await startWithAgent(paymentPolicy({ perTx: '1000', rolling24h: '5000' })))
    await host.waitAgentFloor()
  })
  afterAll(async () => {
    await host?.stop()
  })

  it('8 payments of 1000 delivered reversed: exactly 5 sign (cap 5000), each verifies, the rest policy_daily_cap_exceeded', async () => {
    const batch = Array.from({ length: 8 }, () => pay(1000n))
    const results = []
    for (const req of [...batch].reverse()) results.push({ req, r: await host.agentSign(req) })
    const ok = results.filter((x) => x.r.ok)
    expect(ok.length).toBe(5)
    for (const x of ok) expect(await verifyPayment(wallet, x.req.parsed, (x.r as { result: AgentSignOk }).result.signature)).toBe(true)
    for (const x of results.filter((y) => !y.r.ok)) {
      expect(refusalCode(x.r)).toBe('policy_daily_cap_exceeded')
      expect(hasSignature(x.r)).toBe(false)
    }
  })

  it('two owner acts swapped (seq n+2 before n+1) → state_rollback_detected; the wallet signs nothing until Resync', async () => {
    const n = await host.ownerSeq(wallet)
    const first = await signOwnerAct({ account: owner, primaryType: 'CreditBudget', message: { wallet, agentId: agent.agentId, chainId: '84532', asset: '0x036CbD53842c5426634e7929541eC2318f3dCF7e', amount: '3000', seq: String(n + 1) } })
    const second = await signOwnerAct({ account: owner, primaryType: 'FreezeAgent', message: { wallet, agentId: agent.agentId, frozen: false, seq: String(n + 2) } })
    expect(refusalCode(await host.call({ type: 'ownerAct', ...second }))).toBe('state_rollback_detected')
    // The first act now arrives: the wallet has failed closed.
    expect(refusalCode(await host.call({ type: 'ownerAct', ...first }))).toBe('wallet_rolled_back')
    const blocked = await host.agentSign(pay(1n))
    expect(refusalCode(blocked)).toBe('wallet_rolled_back')
    expect(hasSignature(blocked)).toBe(false)
    // The owner reviews and resyncs (seq above everything it signed); signing resumes, the credit was never applied.
    const resync = await host.ownerAct({ account: owner, primaryType: 'Resync', message: { wallet, seq: String(n + 3) } })
    expect(resync.ok).toBe(true)
    expect(refusalCode(await host.agentSign(pay(1n)))).toBe('policy_daily_cap_exceeded')
    const credit = await host.walletAct(owner, 'CreditBudget', wallet, { agentId: agent.agentId, chainId: '84532', asset: '0x036CbD53842c5426634e7929541eC2318f3dCF7e', amount: '1000' })
    expect(credit.ok).toBe(true)
    const req = pay(1000n)
    const r = await host.agentSign(req)
    expect(r.ok).toBe(true)
    expect(await verifyPayment(wallet, req.parsed, (r as { result: AgentSignOk }).result.signature)).toBe(true)
  })

  it('audit entries swapped at bootstrap → audit_resume_gap, the enclave does not load them; in order it loads and honest traffic signs', async () => {
    const snap = host.snapshots.find((s) => host.entriesAfter(s.auditSeq).length >= 2)!
    const after = host.entriesAfter(snap.auditSeq).filter((t) => (JSON.parse(t) as AuditEntry).seq > snap.auditSeq)
    const swapped = [after[1]!, after[0]!, ...after.slice(2)]
    await host.restartEnclave()
    const bad = await host.bootstrap({ snapshot: snap.blob, entries: swapped })
    expect(refusalCode(bad.last)).toBe('audit_resume_gap')
    expect(refusalCode(await host.agentSign(pay(1n)))).toBe('enclave_not_ready')
    await host.restartEnclave()
    expect((await host.bootstrapHonest()).ok).toBe(true)
    await host.waitAgentFloor()
    expect(refusalCode(await host.agentSign(pay(1n)))).toBe('policy_daily_cap_exceeded')
  })
})
