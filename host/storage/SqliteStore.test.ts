import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { AuditForkError, SqliteStore } from './SqliteStore.js'

const entry = (seq: number, hash = `0x${seq.toString(16).padStart(64, '0')}`) =>
  JSON.stringify({ seq, hash, time: 1, event: 'sign_denied', wallet: null, agentId: null, verdict: 'deny' })
const blob = new Uint8Array([1, 2, 3])

/** The host's store is idempotent (catchUp re-sends what may be stored) and refuses a fork (SECURITY.md F1). */
describe('SqliteStore: idempotent persist, forks refused, storedThrough', () => {
  it('stores the same entries and snapshot twice without error; a second hash at a stored seq throws and stores nothing', async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'bursar-store-')), 'b.db')
    const store = new SqliteStore(file)
    await store.persist({ entries: [entry(0), entry(1)], checkpoint: null, sealed: { version: 1, auditSeq: 1, blob } })
    await store.persist({ entries: [entry(0), entry(1), entry(2)], checkpoint: null, sealed: { version: 1, auditSeq: 1, blob } })
    expect(await store.entriesAfter(-1, 10)).toEqual([entry(0), entry(1), entry(2)])
    await expect(store.persistMany([{ entries: [entry(3)], checkpoint: null, sealed: null }, { entries: [entry(1, `0x${'ee'.repeat(32)}`)], checkpoint: null, sealed: null }])).rejects.toBeInstanceOf(AuditForkError)
    expect(await store.entriesAfter(-1, 10)).toHaveLength(3) // the whole batch was refused (entry 3 too)
    await store.close()
    const db = new Database(file, { readonly: true })
    expect(db.prepare('SELECT seq FROM audit_conflicts').pluck().all()).toEqual([1]) // evidence kept
    db.close()
  })

  it('storedThrough: the end of the complete run after a known seq, stopping at a hole', async () => {
    const store = new SqliteStore(path.join(mkdtempSync(path.join(tmpdir(), 'bursar-store-')), 'b.db'))
    expect(await store.storedThrough(-1)).toBe(-1)
    await store.persist({ entries: [1, 2, 3, 5, 6].map((s) => entry(s)), checkpoint: null, sealed: null })
    expect(await store.storedThrough(-1)).toBe(-1) // seq 0 missing
    await store.persist({ entries: [entry(0)], checkpoint: null, sealed: null })
    expect(await store.storedThrough(-1)).toBe(3)
    expect(await store.storedThrough(3)).toBe(3)
    await store.persist({ entries: [entry(4)], checkpoint: null, sealed: null })
    expect(await store.storedThrough(3)).toBe(6)
    await store.close()
  })
})
