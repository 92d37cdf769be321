import path from 'node:path'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import type { AuditEntry } from '../../shared/audit/auditEntry.js'
import { auditEntries, eip3009, paymentPolicy, signedBody } from '../helpers/agentClient.js'
import { stackWithAgentPerFile } from '../helpers/stackWithAgentPerFile.js'

const AMOUNT = 1_000n

/**
 * Red team rt40 on host40 (the answer text split once: the gateway hands the SQLite store the head it spliced the
 * audit entry onto, and the store keeps that head instead of finding the entry in the body again). Attack: agent text
 * (reason ≤ 280, resource URL ≤ 2,048) that spells the splice's own markers — `,"auditEntry":`, `,"hash":"` (where
 * the entry as hashed is cut from its stored text), closing braces, escapes, lone surrogates, the longest allowed —
 * so that the head handed over, the stored entry and the body sent differ: a resend of the same signed request (answered
 * from the store) would then get other bytes than the first answer, or a receipt whose entry no longer hashes.
 * Safe: the resend's bytes (the stored answer, parsed and sent again) equal the first answer's; the stored row is a head (the splice was taken, not a fallback),
 * and the entry the owner reads from the audit log is the one in the answer.
 */
describe('adversarial: agent text spelling the answer splice markers (host40)', () => {
  const s = stackWithAgentPerFile(paymentPolicy({ perTx: AMOUNT.toString(), rolling24h: (AMOUNT * 100n).toString() }))

  const texts: Array<[string, string]> = [
    [',"auditEntry":{"seq":1}}', 'https://m.example/,"auditEntry":'],
    [`","hash":"0x${'0'.repeat(64)}","mac":"x"}`, `https://m.example/${',"hash":"'.repeat(220)}`],
    ['\\",\\"hash\\":\\"\\u0000}', 'https://m.example/"}}}'],
    ['\ud800'.repeat(280), `https://m.example/${'\udfff'.repeat(2000)}`],
    ['}'.repeat(280), `https://m.example/${'"'.repeat(2000)}`],
    ['"auditEntry":'.repeat(21), `https://m.example/${'\\'.repeat(2000)}`],
  ]

  it('each resend gets the first answer\'s bytes, rebuilt from the stored head; the audit log holds the answer\'s entry', async () => {
    const sqlite = process.env.BURSAR_TEST_STORE !== 'postgres'
    const db = sqlite ? new Database(path.join(s.stack.dataDir, 'bursar.db'), { readonly: true, fileMustExist: true }) : null
    try {
      const sent: AuditEntry[] = []
      for (const [reason, resourceUrl] of texts) {
        const body = JSON.stringify(signedBody({ agentKey: s.agentKey, wallet: s.wallet, operation: eip3009({ wallet: s.wallet, value: AMOUNT }), extra: { context: { reason, resourceUrl } } }))
        const post = () => fetch(`${s.stack.url}/v1/agent/sign`, { method: 'POST', headers: { 'content-type': 'application/json' }, body }).then(async (r) => [r.status, await r.text()] as const)
        const [status, first] = await post()
        expect(status, first).toBe(200)
        const answer = JSON.parse(first) as { auditEntry: AuditEntry; receipt: { seq: number } }
        expect([answer.auditEntry.reason, answer.auditEntry.resourceUrl]).toEqual([reason, resourceUrl])
        sent.push(answer.auditEntry)
        const nonce = (JSON.parse((JSON.parse(body) as { request: string }).request) as { nonce: string }).nonce
        if (db) {
          const row = db.prepare('SELECT length(body_or_head) AS n, entry_chain AS chain FROM agent_answers WHERE nonce = ?').get(nonce) as { n: number; chain: string | null }
          expect(row.chain, reason).not.toBeNull() // stored as a head: the entry is rebuilt from audit_entries
          expect(row.n).toBeLessThan(first.length)
        }
        expect(await post()).toEqual([200, first])
      }
      // The owner's audit read: the entries the answers carried (as hashed: the stored text adds its hash and mac), in order.
      const hashed = (e: AuditEntry) => {
        const { hash: _h, mac: _m, ...rest } = e as AuditEntry & { hash?: string; mac?: string }
        return rest
      }
      const logged = (await auditEntries(s.stack.url, s.owner, { wallet: s.wallet })).filter((e) => e.event === 'sign_allowed').slice(-texts.length)
      expect(logged.map(hashed)).toEqual(sent.map(hashed))
    } finally {
      db?.close()
    }
  }, 120_000)
})
