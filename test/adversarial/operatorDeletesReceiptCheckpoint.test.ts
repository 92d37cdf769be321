import path from 'node:path'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { eip3009, paymentPolicy, postSign, signedBody } from '../helpers/agentClient.js'
import { stackWithAgentPerFile } from '../helpers/stackWithAgentPerFile.js'

/**
 * Attack (database operator / a damaged store, rt36b on host35's migration 8): a stored answer's head keeps only where
 * its receipt checkpoint was (checkpoint_at); the read pastes the audit_checkpoints row back. Delete that row (a
 * hand-run cleanup of "old checkpoints", a partial restore) and resend the request (the agent lost the first answer).
 * Before: the StoreDamagedError was swallowed — the resend got 409 request_replayed ("Sign a fresh request": a second
 * payment for one the enclave may have signed) and the host logged nothing. Fix: 500 store_damaged (do not sign again)
 * and a host log line naming the missing row and saying to restore the store; the host keeps serving everyone else.
 */
describe('adversarial: the receipt checkpoint row of a stored answer is deleted, then the agent resends', () => {
  const s = stackWithAgentPerFile(paymentPolicy({ perTx: '1000', rolling24h: '10000' }))

  it('the resend gets store_damaged (not request_replayed), the log names the row; the host serves others', async () => {
    const body = signedBody({ agentKey: s.agentKey, wallet: s.wallet, operation: eip3009({ wallet: s.wallet, value: 1000n }) })
    const first = await postSign(s.stack.url, body)
    expect(first.status).toBe(200)
    const seq = (first.json.receipt as { seq: number }).seq
    const db = new Database(path.join(s.stack.dataDir, 'bursar.db'))
    try {
      expect(db.prepare("DELETE FROM audit_checkpoints WHERE chain = '' AND seq = ?").run(seq).changes).toBe(1)
    } finally {
      db.close()
    }
    const again = await postSign(s.stack.url, body)
    expect(again.status).toBe(500)
    expect(again.json.code).toBe('store_damaged')
    expect(String(again.json.message)).toMatch(/do not sign a fresh request/)
    expect(s.stack.logs.join('')).toMatch(new RegExp(`store damaged: .*names the checkpoint at ${seq} of chain ''.*restore the store from a backup`))
    expect((await fetch(`${s.stack.url}/readyz`)).status).toBe(200)
    const other = await postSign(s.stack.url, signedBody({ agentKey: s.agentKey, wallet: s.wallet, operation: eip3009({ wallet: s.wallet, value: 10n }) }))
    expect(other.status).toBe(200)
  }, 60_000)
})
