import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { MIGRATIONS, SqliteStore } from '../../host/storage/SqliteStore.js'
import { StoreTooNewError } from '../../host/storage/storeErrors.js'

/**
 * rt33b (red team on lat18b): since migration 6 an answer row may hold only the head of the answer (the body without
 * the audit entry it repeats), rebuilt on read. An operator who rolls the host back to a bursar of migration 5 (or a
 * host that opens a store a newer bursar migrated) must not serve that head to an agent's resend as the whole answer:
 * the agent would get `…,"auditEntry":` — no entry, unparsable — for a payment the enclave signed. The old binary's own
 * statements (copied verbatim from the migration-5 SqliteStore) must fail to prepare; this binary refuses a store with
 * a migration it does not know.
 */
const MIGRATION5_STATEMENTS = [
  `SELECT agent_id AS agentId, nonce, request_hash AS requestHash, status, body, audit_seq AS auditSeq, decided_at AS decidedAt,
           fetched_at AS fetchedAt, fetch_count AS fetchCount FROM agent_answers WHERE agent_id = ? AND nonce = ?`,
  'INSERT INTO agent_answers(agent_id, nonce, request_hash, status, body, audit_seq, decided_at) VALUES (?,?,?,?,?,?,?) ON CONFLICT DO NOTHING',
]

const entry = { agentId: 'ag1', event: 'sign_allowed', reason: 'paid', seq: 0, time: 5, verdict: 'allow', wallet: '0xAbC0000000000000000000000000000000000001', walletSeq: 1 }
const entryText = `${JSON.stringify(entry).slice(0, -1)},"hash":"0x${'00'.repeat(32)}","mac":"${'ab'.repeat(32)}"}`
const body = JSON.stringify({ signature: `0x${'cd'.repeat(65)}`, receipt: { seq: 0, entryHash: `0x${'00'.repeat(32)}` }, auditEntry: entry })

describe('answerReplayAfterDowngrade: an older bursar never serves a stored head as the answer', () => {
  it('a migration-5 binary cannot read or write the answers of a store this bursar wrote (its statements do not prepare)', async () => {
    const f = path.join(mkdtempSync(path.join(tmpdir(), 'bursar-downgrade-')), 'bursar.db')
    const store = new SqliteStore(f, { backgroundCheckpoint: false })
    await store.persistMany([{ entries: [entryText], checkpoint: null, sealed: null }], [{ agentId: 'ag1', nonce: 'n1', requestHash: 'h', status: 200, body, auditSeq: 0, decidedAt: 1 }])
    expect((await store.agentAnswer('ag1', 'n1'))?.body).toBe(body)
    await store.close()

    const db = new Database(f)
    try {
      for (const sql of MIGRATION5_STATEMENTS) {
        // Either the old statement cannot run here, or it reads the whole answer: never a head.
        let read: { body: string } | undefined
        try {
          const stmt = db.prepare(sql)
          read = stmt.reader ? (stmt.get('ag1', 'n1') as { body: string } | undefined) : undefined
        } catch (err) {
          expect(String(err)).toMatch(/no such column: body|has no column named body/)
          continue
        }
        if (read) expect(read.body).toBe(body)
        else throw new Error(`the migration-5 statement prepared on a migrated store: ${sql.slice(0, 60)}`)
      }
    } finally {
      db.close()
    }
  })

  it('this bursar refuses a store with a migration it does not know (a newer one may keep rows it would misread)', async () => {
    const f = path.join(mkdtempSync(path.join(tmpdir(), 'bursar-downgrade-')), 'bursar.db')
    await new SqliteStore(f, { backgroundCheckpoint: false }).close()
    const db = new Database(f)
    db.prepare('INSERT INTO schema_migrations(version, applied_at) VALUES (?, 1)').run(MIGRATIONS.length + 1)
    db.close()
    expect(() => new SqliteStore(f, { backgroundCheckpoint: false })).toThrow(StoreTooNewError)
  })
})
