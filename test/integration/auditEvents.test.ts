import path from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ApprovalPendingError, PolicyDeniedError } from '../../agent/errors.js'
import { requestSignature } from '../../agent/requestSignature.js'
import type { AuditEntry } from '../../shared/audit/auditEntry.js'
import type { AuditReceipt } from '../../shared/audit/verifyReceipt.js'
import { type AuditExport, parseAuditJsonl } from '../../shared/audit/exportFormats.js'
import { verifyAuditLog } from '../../shared/audit/verifyAuditLog.js'
import { verifyReceipt } from '../../shared/audit/verifyReceipt.js'
import {
  CHAIN_ID,
  OTHER_PAYEE,
  type StackWithAgent,
  TOKEN,
  eip3009,
  paymentPolicy,
  stackWithAgent,
  verifyEip3009,
  waitAgentFloor,
} from '../helpers/agentClient.js'

/**
 * A realistic run through the real host + enclave: every kind of decision
 * lands in the stored log, the log verifies, and an agent's receipt is
 * honoured by a later export but not by one the host has pruned.
 */
describe('audit trail: every decision of a realistic run, and receipts (real host + enclave)', () => {
  let s: StackWithAgent
  let publicKey: string
  let receipt: AuditReceipt
  let receiptSigned: string
  const exportAll = async (): Promise<AuditExport> => {
    const res = await fetch(`${s.stack.url}/v1/audit/export?format=jsonl`, { headers: { authorization: `Bearer ${s.stack.auditToken}` } })
    expect(res.status).toBe(200)
    return parseAuditJsonl(await res.text())
  }
  const pay = (value: bigint, to?: `0x${string}`) => {
    const operation = eip3009({ wallet: s.wallet, value, ...(to ? { to } : {}) })
    return requestSignature({ host: s.stack.url, agentKey: s.agentKey, wallet: s.wallet, operation, context: { reason: `pay ${value}` } }).then(
      (r) => ({ ...r, operation }),
    )
  }

  beforeAll(async () => {
    const policy = paymentPolicy({ perTx: '100000', rolling24h: '1000000' })
    const rule = policy.rules[0]!
    if (rule.effect !== 'allow') throw new TypeError('expected an allow rule')
    // Up to 1,000 per payment signs; above it the owner is asked.
    policy.rules[0] = { ...rule, caps: [{ chainId: CHAIN_ID, asset: TOKEN, perTx: '1000' }], onViolation: 'pending' }
    policy.rules.push({ id: 'never-other', effect: 'deny', payTo: { in: [OTHER_PAYEE] } })
    s = await stackWithAgent(policy)
    publicKey = ((await (await fetch(`${s.stack.url}/readyz`)).json()) as { receiptPublicKey: string }).receiptPublicKey
    await waitAgentFloor()
  })
  afterAll(async () => {
    await s?.stack.stop()
  })

  it('records every decision kind, in order, in a chain that verifies across a restart', async () => {
    const paid = await pay(500n)
    expect(await verifyEip3009(s.wallet, paid.operation, paid.signature)).toBe(true)
    receipt = paid.receipt as AuditReceipt
    receiptSigned = paid.signedHash

    const pending = await pay(5_000n).catch((e: unknown) => e)
    expect(pending).toBeInstanceOf(ApprovalPendingError)
    const denied = await pay(500n, OTHER_PAYEE).catch((e: unknown) => e)
    expect(denied).toBeInstanceOf(PolicyDeniedError)
    await s.client.resolvePending(s.wallet, (pending as ApprovalPendingError).pendingId!, true)
    const approved = await pay(5_000n)
    expect(await verifyEip3009(s.wallet, approved.operation, approved.signature)).toBe(true)
    await s.client.act('FreezeAgent', s.wallet, { agentId: s.agentKey.agentId, frozen: true })
    await s.client.act('FreezeAgent', s.wallet, { agentId: s.agentKey.agentId, frozen: false })
    await s.client.act('IssuePermit', s.wallet, {
      agentId: s.agentKey.agentId,
      permitId: 'pmt_audit',
      chainId: String(CHAIN_ID),
      asset: TOKEN,
      amount: '2000',
      payTo: `0x${'0'.repeat(40)}`,
      host: 'api.example.com',
      expiresAt: String(Date.now() + 600_000),
      exceedCaps: false,
    })
    await s.client.act('RevokeAgent', s.wallet, { agentId: s.agentKey.agentId })

    await s.stack.stopHost()
    await s.stack.stopEnclave()
    await s.stack.startEnclave()
    await s.stack.startHost()
    await s.stack.waitReady()

    const log = await exportAll()
    const events = log.entries.map((e) => e.event)
    expect(events).toEqual([
      'enclave_started',
      'wallet_created',
      'agent_registered',
      'policy_set',
      'sign_allowed',
      'sign_pending',
      'sign_denied',
      'pending_approved',
      'sign_allowed',
      'agent_frozen',
      'agent_unfrozen',
      'permit_issued',
      'agent_revoked',
      'state_loaded',
    ])
    // What the entries say matches what happened.
    const byEvent = (ev: string) => log.entries.filter((e) => e.event === ev)
    const [allowed, allowedAfterApproval] = byEvent('sign_allowed') as [AuditEntry, AuditEntry]
    expect(allowed).toMatchObject({ verdict: 'allow', agentId: s.agentKey.agentId, reason: 'pay 500', signedHash: paid.signedHash })
    expect(allowed.action).toMatchObject({ kind: 'eip3009', amount: '500', chainId: CHAIN_ID })
    expect(allowedAfterApproval.signedHash).toBe(approved.signedHash)
    expect(allowedAfterApproval.rule).toBe(`pending.${(pending as ApprovalPendingError).pendingId}`)
    expect(byEvent('sign_pending')[0]).toMatchObject({ verdict: 'pending', signedHash: null })
    expect(byEvent('sign_denied')[0]).toMatchObject({ verdict: 'deny', signedHash: null, code: (denied as PolicyDeniedError).code })
    for (const e of log.entries.slice(1, -1)) expect(e.wallet?.toLowerCase()).toBe(s.wallet.toLowerCase())

    const verdict = verifyAuditLog({ ...log, publicKey })
    expect(verdict).toMatchObject({ ok: true, count: events.length })
    if (verdict.ok) expect(verdict.signedHead?.seq).toBe(events.length - 1)
  })

  it("the agent's receipt verifies against a later export (after more traffic and a restart)", async () => {
    expect(receipt.entryHash).toMatch(/^0x[0-9a-f]{64}$/)
    const log = await exportAll()
    expect(log.entries[receipt.seq]!.signedHash).toBe(receiptSigned)
    expect(verifyReceipt({ receipt, entries: log.entries, publicKey })).toEqual({ ok: true, seq: receipt.seq, entryHash: receipt.entryHash })
  })

  it('a receipt for an entry the host deleted (host stopped, row removed from SQLite) fails', async () => {
    const db = path.join(s.stack.dataDir, 'bursar.db')
    await s.stack.stopHost()
    const sqlite = new Database(db)
    try {
      expect(sqlite.prepare('DELETE FROM audit_entries WHERE seq = ?').run(receipt.seq).changes).toBe(1)
    } finally {
      sqlite.close()
    }
    await s.stack.startHost()
    await s.stack.waitReady()
    const log = await exportAll()
    expect(log.entries.some((e) => e.seq === receipt.seq)).toBe(false)
    expect(verifyReceipt({ receipt, entries: log.entries, publicKey })).toMatchObject({ ok: false, code: 'receipt_entry_missing' })
    // And the whole-log verifier names the gap.
    expect(verifyAuditLog({ ...log, publicKey })).toMatchObject({ ok: false, code: 'audit_sequence_gap', seq: receipt.seq })
  })
})
