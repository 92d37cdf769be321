import type { Hex } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AuditEntry } from '../../shared/audit/auditEntry.js'
import { verifyAuditLog } from '../../shared/audit/verifyAuditLog.js'
import { auditLogOf } from '../helpers/auditLogOf.js'
import { verifyReceipt } from '../../shared/audit/verifyReceipt.js'
import {
  type AgentSignOk,
  type MaliciousHost,
  type TestAgent,
  eip3009,
  paymentPolicy,
  signAgentRequest,
  startWithAgent,
  verifyPayment,
} from '../helpers/maliciousHost.js'

/**
 * Attack: the host serves a truncated audit log — the tail cut off (hiding
 * recent payments), an entry cut out of the middle, or everything after an
 * old checkpoint. Holders of a receipt or a signed head detect it offline
 * with the exact code; the running enclave is not affected (it keeps its own
 * chain head, signs nothing extra) and the full log verifies.
 */
describe('adversarial: audit truncation (real enclave, offline verifier)', () => {
  let host: MaliciousHost
  let wallet: Hex
  let agent: TestAgent
  let publicKey: string
  const receipts: AgentSignOk['receipt'][] = []
  const pay = (value = 100n) => signAgentRequest({ agent, wallet, operation: eip3009({ wallet, value }) })

  beforeAll(async () => {
    ;({ host, wallet, agent } = await startWithAgent(paymentPolicy({ perTx: '1000', rolling24h: '100000' })))
    const hello = await host.call({ type: 'attest', nonce: null })
    publicKey = (hello as { result: { receiptPublicKey: string } }).result.receiptPublicKey
    await host.waitAgentFloor()
    for (let i = 0; i < 5; i++) {
      const req = pay()
      const r = await host.agentSign(req)
      expect(r.ok).toBe(true)
      expect(await verifyPayment(wallet, req.parsed, (r as { result: AgentSignOk }).result.signature)).toBe(true)
      receipts.push((r as { result: AgentSignOk }).result.receipt)
    }
  })
  afterAll(async () => {
    await host?.stop()
  })

  it('the full log verifies, and so does every receipt against it', () => {
    const log = auditLogOf(host.entries)
    expect(verifyAuditLog({ ...log, checkpoints: host.checkpoints, publicKey })).toMatchObject({ ok: true, count: host.entries.length })
    for (const receipt of receipts) expect(verifyReceipt({ receipt, entries: log.entries, publicKey }).ok).toBe(true)
  })

  it('tail cut off: the last receipt → receipt_entry_missing; the signed head it carries → audit_truncated', () => {
    const last = receipts.at(-1)!
    const cut = auditLogOf(host.entries.filter((t) => (JSON.parse(t) as AuditEntry).seq < last.seq - 1))
    expect(verifyReceipt({ receipt: last, entries: cut.entries, publicKey })).toMatchObject({ ok: false, code: 'receipt_entry_missing' })
    // Served with the checkpoints for the entries it kept, the log alone looks whole…
    const kept = host.checkpoints.filter((c) => c.seq < last.seq - 1)
    expect(verifyAuditLog({ ...cut, checkpoints: kept, publicKey }).ok).toBe(true)
    // …but not against the head the agent holds.
    expect(verifyAuditLog({ ...cut, checkpoints: [...kept, last.checkpoint], publicKey })).toMatchObject({ ok: false, code: 'audit_truncated' })
    expect(verifyAuditLog({ ...cut, checkpoints: kept, publicKey, expectedHead: { seq: last.checkpoint.seq, hash: last.checkpoint.head as Hex } })).toMatchObject({
      ok: false,
      code: 'audit_truncated',
    })
  })

  it('an entry cut from the middle → audit_sequence_gap at its seq; a receipt for it → receipt_entry_missing', () => {
    const victim = receipts[2]!
    const holed = auditLogOf(host.entries.filter((t) => (JSON.parse(t) as AuditEntry).seq !== victim.seq))
    expect(verifyAuditLog({ ...holed, checkpoints: host.checkpoints, publicKey })).toMatchObject({ ok: false, code: 'audit_sequence_gap', seq: victim.seq })
    expect(verifyReceipt({ receipt: victim, entries: holed.entries, publicKey })).toMatchObject({ ok: false, code: 'receipt_entry_missing' })
  })

  it('the enclave is unaffected: honest traffic signs and its receipt continues the full chain', async () => {
    const req = pay()
    const r = await host.agentSign(req)
    expect(r.ok).toBe(true)
    const receipt = (r as { result: AgentSignOk }).result.receipt
    expect(receipt.seq).toBeGreaterThan(receipts.at(-1)!.seq)
    expect(verifyAuditLog({ ...auditLogOf(host.entries), checkpoints: host.checkpoints, publicKey }).ok).toBe(true)
  })
})
