import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { compactAnswerBody, cutCheckpoint, expandAnswerBody, pasteCheckpoint } from './answerBody.js'
import { MIGRATIONS, SqliteStore } from './SqliteStore.js'

/** An entry as the enclave stores it: its hashed canonical JSON (keys sorted here) with `hash` and `mac` appended. */
function entryText(seq: number, extra: Record<string, unknown> = {}, hash = `0x${seq.toString(16).padStart(64, '0')}`): { text: string; hashed: Record<string, unknown> } {
  const hashed = Object.fromEntries(
    Object.entries({ agentId: 'ag1', event: 'sign_allowed', reason: 'r', seq, time: 5, verdict: 'allow', wallet: '0xAbC0000000000000000000000000000000000001', walletSeq: seq + 1, ...extra }).sort(([a], [b]) => (a < b ? -1 : 1)),
  )
  return { text: `${JSON.stringify(hashed).slice(0, -1)},"hash":"${hash}","mac":"${'ab'.repeat(32)}"}`, hashed }
}
/** The gateway's answer to a signature: the enclave's result with the entry as hashed appended (withAuditEntry). */
const answerBody = (seq: number, hashed: Record<string, unknown>, checkpoint: Record<string, unknown> = { seq, head: 'h', time: 5, signature: 's' }) =>
  JSON.stringify({ signature: `0x${'cd'.repeat(65)}`, signedHash: `0x${'ef'.repeat(32)}`, receipt: { seq, entryHash: `0x${'12'.repeat(32)}`, checkpoint }, auditEntry: hashed })
const file = () => path.join(mkdtempSync(path.join(tmpdir(), 'bursar-ab-')), 'b.db')
/** A store file an older bursar wrote: migrations 1..n applied; e0 to store in it. */
function storeAtMigration(n: number) {
  const f = file()
  const db = new Database(f)
  db.exec('CREATE TABLE schema_migrations(version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)')
  MIGRATIONS.slice(0, n).forEach((sql, i) => db.exec(sql) && db.prepare('INSERT INTO schema_migrations VALUES (?, 1)').run(i + 1))
  return { f, db, e0: entryText(0) }
}
const rawAnswers = (f: string) => {
  const db = new Database(f, { readonly: true })
  const rows = db.prepare('SELECT nonce, body_or_head AS body, entry_chain AS entryChain, checkpoint_at AS checkpointAt FROM agent_answers ORDER BY nonce').all() as { nonce: string; body: string; entryChain: string | null; checkpointAt: number | null }[]
  db.close()
  return rows
}

describe('answerBody (lat18b): an answer stored without the audit entry it repeats', () => {
  it('compacts only a body that is exactly head + the entry as hashed + }, and expands it byte for byte', () => {
    // Text that looks like the tails being cut, inside the entry and the head: lone surrogates, a fake hash/auditEntry.
    const tricky = '\ud800 "},"hash":"0x00","mac":"ff"} ,"auditEntry":{} \u2028 __proto__ é'
    const { text, hashed } = entryText(7, { reason: tricky, resourceUrl: 'https://m.example/\udfff?"__proto__"' })
    const body = answerBody(7, hashed)
    const head = compactAnswerBody(body, text)
    expect(head).not.toBeNull()
    expect(head!.length).toBeLessThan(body.length - text.length + 200)
    expect(expandAnswerBody(head!, text)).toBe(body)
    // Another entry's text, another layout of the same entry, a body without it or with a key after it: stored whole.
    expect(compactAnswerBody(body, entryText(8).text)).toBeNull()
    const reordered = `{"seq":7,${text.slice(1).replace(',"seq":7', '')}`
    expect(compactAnswerBody(body, reordered)).toBeNull()
    expect(compactAnswerBody(JSON.stringify({ code: 'policy_denied', message: 'no' }), text)).toBeNull()
    expect(compactAnswerBody(`${body.slice(0, -1)},"x":1}`, text)).toBeNull()
    expect(compactAnswerBody(body, JSON.stringify(hashed))).toBeNull() // an entry text without the appended hash and mac
  })

  it('SqliteStore keeps the head, rebuilds the body on read, per chain; a re-stored entry of another layout keeps the body whole', async () => {
    const f = file()
    const store = new SqliteStore(f)
    const chainB = 'b'.repeat(32)
    const e0 = entryText(0), e1 = entryText(1), eb = entryText(0, { reason: 'chain b' }, `0x${'0b'.repeat(32)}`)
    const a = (nonce: string, body: string, auditSeq: number | null) => ({ agentId: 'ag1', nonce, requestHash: 'h', status: 200, body, auditSeq, decidedAt: 1 })
    await store.persistMany([{ entries: [e0.text], checkpoint: null, sealed: null }], [a('n0', answerBody(0, e0.hashed), 0)])
    await store.persistMany([{ entries: [eb.text], checkpoint: null, sealed: null }], [a('nb', answerBody(0, eb.hashed), 0)], chainB)
    // Entry 1 stored first in another key order (same hash: catchUp re-sends are the same entry), then an answer naming it.
    const other = `{"seq":1,${e1.text.slice(1).replace(',"seq":1', '')}`
    await store.persistMany([{ entries: [other], checkpoint: null, sealed: null }])
    await store.persistMany([{ entries: [e1.text], checkpoint: null, sealed: null }], [a('n1', answerBody(1, e1.hashed), 1), a('nd', '{"code":"policy_denied","message":"no"}', 1)])
    const rows = rawAnswers(f)
    expect(rows.map((r) => [r.nonce, r.entryChain])).toEqual([['n0', ''], ['n1', null], ['nb', chainB], ['nd', null]])
    expect(rows[0]!.body.length).toBeLessThan(answerBody(0, e0.hashed).length - 100)
    expect((await store.agentAnswer('ag1', 'n0'))?.body).toBe(answerBody(0, e0.hashed))
    expect((await store.agentAnswer('ag1', 'nb'))?.body).toBe(answerBody(0, eb.hashed))
    expect((await store.agentAnswer('ag1', 'n1'))?.body).toBe(answerBody(1, e1.hashed))
    expect((await store.agentAnswer('ag1', 'nd'))?.body).toBe('{"code":"policy_denied","message":"no"}')
    expect(await store.agentAnswer('ag1', 'n0')).toEqual({ ...a('n0', answerBody(0, e0.hashed), 0), fetchedAt: null, fetchCount: 0 })
    await store.close()
  })

  it('a store written before migration 6 upgrades in place: whole answers and checkpoints read back; new answers are compact', async () => {
    const { f, db, e0 } = storeAtMigration(5)
    db.prepare("INSERT INTO audit_entries(chain, seq, hash, time, event, wallet, agent_id, verdict, body, wallet_seq) VALUES ('', 0, ?, 5, 'sign_allowed', NULL, 'ag1', 'allow', ?, 1)").run(`0x${'0'.repeat(64)}`, e0.text)
    db.prepare("INSERT INTO audit_checkpoints(chain, seq, head, time, signature) VALUES ('', 0, 'h0', 5, 's0'), ('c', 3, 'h3', 6, 's3')").run()
    db.prepare("INSERT INTO agent_answers(agent_id, nonce, request_hash, status, body, audit_seq, decided_at, fetch_count) VALUES ('ag1', 'old', 'h', 200, ?, 0, 1, 2)").run(answerBody(0, e0.hashed))
    db.close()
    const store = new SqliteStore(f)
    expect(await store.agentAnswer('ag1', 'old')).toMatchObject({ body: answerBody(0, e0.hashed), fetchCount: 2 })
    expect(await store.checkpoints(-1, 10)).toEqual([{ seq: 0, head: 'h0', time: 5, signature: 's0' }])
    expect(await store.latestCheckpoint('c')).toEqual({ seq: 3, head: 'h3', time: 6, signature: 's3' })
    expect(await store.chains()).toEqual(['', 'c'])
    const e1 = entryText(1)
    await store.persistMany([{ entries: [e1.text], checkpoint: { seq: 1, head: 'h1', time: 7, signature: 's1' }, sealed: null }], [{ agentId: 'ag1', nonce: 'new', requestHash: 'h', status: 200, body: answerBody(1, e1.hashed), auditSeq: 1, decidedAt: 2 }])
    expect((await store.agentAnswer('ag1', 'new'))?.body).toBe(answerBody(1, e1.hashed))
    expect((await store.latestCheckpoint())?.seq).toBe(1)
    await store.close()
    expect(rawAnswers(f).map((r) => [r.nonce, r.entryChain])).toEqual([['new', ''], ['old', null]])
    const check = new Database(f, { readonly: true })
    // Migration 6 clustered checkpoints WITHOUT ROWID; migration 9 (host38) appends them to a rowid table again.
    expect(check.prepare("SELECT sql FROM sqlite_master WHERE name = 'audit_checkpoints'").pluck().get()).not.toMatch(/WITHOUT ROWID/)
    // The queries on the tables this migration changed search by key (no full scan).
    for (const sql of [
      'SELECT seq, head, time, signature FROM audit_checkpoints WHERE ckey > ? AND ckey < ? ORDER BY ckey LIMIT ?',
      'SELECT seq, head, time, signature FROM audit_checkpoints WHERE ckey >= ? AND ckey < ? ORDER BY ckey DESC LIMIT 1',
      'SELECT a.body_or_head, e.body FROM agent_answers a LEFT JOIN audit_entries e ON e.chain = a.entry_chain AND e.seq = a.audit_seq WHERE a.agent_id = ? AND a.nonce = ?',
    ]) {
      const plan = (check.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...Array((sql.match(/\?/g) ?? []).length).fill(1)) as { detail: string }[]).map((p) => p.detail)
      expect(plan.join(' | '), sql).not.toMatch(/\bSCAN\b/)
    }
    check.close()
  })

  it('host35 (migration 8): the receipt checkpoint is kept once, in audit_checkpoints; first wins; anything else keeps it', async () => {
    const row = { seq: 3, head: `0x${'3c'.repeat(32)}`, time: 1796254514549, signature: `0x${'ab'.repeat(65)}.2.0x${'01'.repeat(32)}.0x${'02'.repeat(32)}` }
    const { hashed: h3 } = entryText(3)
    const head = answerBody(3, h3, row)
    const cut = cutCheckpoint(head, row)
    expect(cut).not.toBeNull()
    expect(cut!.head).not.toContain(row.signature)
    expect(pasteCheckpoint(cut!.head, cut!.at, row)).toBe(head)
    // Another row (signature, time, key order), or the same text twice: not cut.
    expect(cutCheckpoint(head, { ...row, signature: `0x${'ab'.repeat(65)}.1.0x${'01'.repeat(32)}` })).toBeNull()
    expect(cutCheckpoint(head, { ...row, time: row.time + 1 })).toBeNull()
    expect(cutCheckpoint(answerBody(3, h3, { head: row.head, seq: 3, time: row.time, signature: row.signature }), row)).toBeNull()
    expect(cutCheckpoint(JSON.stringify({ a: { checkpoint: row }, b: { checkpoint: row } }), row)).toBeNull()

    const f = file()
    const store = new SqliteStore(f)
    const a = (nonce: string, body: string, auditSeq: number) => ({ agentId: 'ag1', nonce, requestHash: 'h', status: 200, body, auditSeq, decidedAt: 1 })
    const e3 = entryText(3), e4 = entryText(4), e5 = entryText(5)
    const cp = (seq: number, sig = 's') => ({ seq, head: `0x${seq.toString(16).padStart(64, '0')}`, time: 9, signature: `0x${sig}` })
    // 3: checkpoint in the same block; 4: checkpoint stored by an earlier transaction; 5: the receipt's checkpoint is not the row.
    await store.persistMany([{ entries: [], checkpoint: cp(4), sealed: null }])
    await store.persistMany(
      [
        { entries: [e3.text], checkpoint: cp(3), sealed: null },
        { entries: [e4.text], checkpoint: cp(4, 'later'), sealed: null },
        { entries: [e5.text], checkpoint: cp(5), sealed: null },
      ],
      [a('n3', answerBody(3, e3.hashed, cp(3)), 3), a('n4', answerBody(4, e4.hashed, cp(4)), 4), a('n5', answerBody(5, e5.hashed, cp(5, 'other')), 5)],
    )
    // A later checkpoint at a stored seq does not replace it (the answer's bytes would change).
    await store.persistMany([{ entries: [], checkpoint: cp(3, 'resent'), sealed: null }, { entries: [], checkpoint: cp(5, 'again'), sealed: null }])
    expect(await store.checkpoints(2, 10)).toEqual([cp(3), cp(4), cp(5)])
    const rows = rawAnswers(f)
    expect(rows.map((r) => [r.nonce, r.checkpointAt !== null])).toEqual([['n3', true], ['n4', true], ['n5', false]])
    expect(rows[0]!.body).not.toContain(cp(3).head.slice(2))
    expect((await store.agentAnswer('ag1', 'n3'))?.body).toBe(answerBody(3, e3.hashed, cp(3)))
    expect((await store.agentAnswer('ag1', 'n4'))?.body).toBe(answerBody(4, e4.hashed, cp(4)))
    expect((await store.agentAnswer('ag1', 'n5'))?.body).toBe(answerBody(5, e5.hashed, cp(5, 'other')))
    await store.close()
    // A store whose checkpoint row went missing (edited outside bursar) is refused, not answered without it.
    const db = new Database(f)
    db.prepare("DELETE FROM audit_checkpoints WHERE seq = 3").run()
    db.close()
    const again = new SqliteStore(f)
    await expect(again.agentAnswer('ag1', 'n3')).rejects.toThrow(/checkpoint at 3/)
    await again.close()
  })

  it('host38 (migration 9): a store of migration 8 upgrades in place: checkpoints move to a rowid table keyed by chain number and seq, cut heads still read back whole, first wins, every checkpoint query searches by key', async () => {
    const { f, db } = storeAtMigration(8)
    const chainB = 'b'.repeat(32)
    const cp = (seq: number, sig = 's') => ({ seq, head: `0x${seq.toString(16).padStart(64, '0')}`, time: 9, signature: `0x${sig}` })
    const insEntry = db.prepare("INSERT INTO audit_entries(chain, seq, hash, time, event, wallet, agent_id, verdict, body, wallet_seq) VALUES (?, ?, ?, 5, 'sign_allowed', NULL, 'ag1', 'allow', ?, 1)")
    const insCp = db.prepare('INSERT INTO audit_checkpoints(chain, seq, head, time, signature) VALUES (?, ?, ?, ?, ?)')
    const insAnswer = db.prepare("INSERT INTO agent_answers(agent_id, nonce, request_hash, status, body_or_head, audit_seq, decided_at, entry_chain, checkpoint_at) VALUES ('ag1', ?, 'h', 200, ?, ?, 1, ?, ?)")
    const bodies = new Map<string, string>()
    // Migration 8's rows as its bursar wrote them: heads without their entry and their checkpoint, on two chains.
    for (const [chain, seq] of [['', 0], ['', 1], [chainB, 0], ['', 2]] as const) {
      const e = entryText(seq, { reason: chain || 'root' }, `0x${chain.slice(0, 2).padStart(2, 'f')}${seq.toString(16).padStart(62, '0')}`)
      const c = cp(seq, `${chain.slice(0, 1)}${seq}`)
      const body = answerBody(seq, e.hashed, c)
      const cut = cutCheckpoint(compactAnswerBody(body, e.text)!, c)!
      insEntry.run(chain, seq, e.text.slice(e.text.lastIndexOf('"hash":"') + 8, e.text.lastIndexOf('","mac"')), e.text)
      insCp.run(chain, c.seq, c.head, c.time, c.signature)
      insAnswer.run(`${chain.slice(0, 1)}n${seq}`, cut.head, seq, chain, cut.at)
      bodies.set(`${chain.slice(0, 1)}n${seq}`, body)
    }
    expect((db.prepare("SELECT sql FROM sqlite_master WHERE name = 'audit_checkpoints'").pluck().get() as string)).toMatch(/WITHOUT ROWID/)
    db.close()
    const store = new SqliteStore(f)
    for (const [nonce, body] of bodies) expect((await store.agentAnswer('ag1', nonce))?.body).toBe(body)
    expect(await store.checkpoints(-1, 10)).toEqual([cp(0, '0'), cp(1, '1'), cp(2, '2')])
    expect(await store.checkpoints(-1, 10, chainB)).toEqual([cp(0, 'b0')])
    expect(await store.latestCheckpoint()).toEqual(cp(2, '2'))
    expect(await store.chains()).toEqual(['', chainB])
    // First wins after the move: a resent checkpoint at a stored seq does not replace the row a head points at.
    await store.persistMany([{ entries: [], checkpoint: cp(1, 'resent'), sealed: null }, { entries: [], checkpoint: cp(3), sealed: null }])
    expect(await store.checkpoints(0, 10)).toEqual([cp(1, '1'), cp(2, '2'), cp(3)])
    expect((await store.agentAnswer('ag1', 'n1'))?.body).toBe(bodies.get('n1'))
    await store.close()
    const v = new Database(f, { readonly: true })
    expect(v.prepare('SELECT MAX(version) FROM schema_migrations').pluck().get()).toBe(9)
    // One b-tree: the rowid is the key (chain number × 2^40 + seq); chain_ids numbers '' 0, the others from 1.
    expect(v.prepare('SELECT chain, id FROM chain_ids ORDER BY id').all()).toEqual([{ chain: '', id: 0 }, { chain: chainB, id: 1 }])
    expect(v.prepare("SELECT name FROM sqlite_master WHERE tbl_name = 'audit_checkpoints' AND type = 'index'").all()).toEqual([])
    expect(v.prepare('SELECT ckey FROM audit_checkpoints ORDER BY ckey').pluck().all()).toEqual([0, 1, 2, 3, 2 ** 40])
    const plans = [
      'SELECT seq, head, time, signature FROM audit_checkpoints WHERE ckey > ? AND ckey < ? ORDER BY ckey LIMIT 5',
      'SELECT seq, head, time, signature FROM audit_checkpoints WHERE ckey >= ? AND ckey < ? ORDER BY ckey DESC LIMIT 1',
      'SELECT seq, head, time, signature FROM audit_checkpoints WHERE ckey = ?',
      'SELECT id FROM chain_ids WHERE chain = ?',
      `SELECT a.body_or_head, c.signature FROM agent_answers a LEFT JOIN chain_ids k ON a.checkpoint_at IS NOT NULL AND k.chain = a.entry_chain
         LEFT JOIN audit_checkpoints c ON a.audit_seq >= 0 AND a.audit_seq < ${2 ** 40} AND c.ckey = k.id * ${2 ** 40} + a.audit_seq WHERE a.agent_id = ? AND a.nonce = ?`,
    ].map((q) => (v.prepare(`EXPLAIN QUERY PLAN ${q}`).all(...(q.match(/\?/g) ?? []).map(() => 'x')) as { detail: string }[]).map((p) => p.detail).join(' | '))
    for (const plan of plans) expect(plan, plan).not.toMatch(/\bSCAN\b|TEMP B-TREE/)
    v.close()
  })

  it('a store of migration 7 upgrades in place: its answers keep their checkpoints and read back whole; it records migration 8, which a migration-7 bursar refuses (rt33b)', async () => {
    const { f, db, e0 } = storeAtMigration(7)
    const body = answerBody(0, e0.hashed, { seq: 0, head: 'h0', time: 5, signature: 's0' })
    db.prepare("INSERT INTO audit_entries(chain, seq, hash, time, event, wallet, agent_id, verdict, body, wallet_seq) VALUES ('', 0, ?, 5, 'sign_allowed', NULL, 'ag1', 'allow', ?, 1)").run(`0x${'0'.repeat(64)}`, e0.text)
    db.prepare("INSERT INTO audit_checkpoints(chain, seq, head, time, signature) VALUES ('', 0, 'h0', 5, 's0')").run()
    db.prepare("INSERT INTO agent_answers(agent_id, nonce, request_hash, status, body_or_head, audit_seq, decided_at, entry_chain) VALUES ('ag1', 'old', 'h', 200, ?, 0, 1, '')").run(compactAnswerBody(body, e0.text))
    db.close()
    const store = new SqliteStore(f)
    expect((await store.agentAnswer('ag1', 'old'))?.body).toBe(body)
    await store.close()
    expect(rawAnswers(f).map((r) => r.checkpointAt)).toEqual([null])
    // The schema_migrations check (rt33b) is what keeps a migration-7 bursar from serving heads without checkpoints.
    const v = new Database(f, { readonly: true })
    expect(v.prepare('SELECT MAX(version) FROM schema_migrations').pluck().get()).toBe(MIGRATIONS.length)
    // The answer's checkpoint by its key (migration 9: chain number × 2^40 + seq).
    const plan = (v.prepare(`EXPLAIN QUERY PLAN SELECT a.body_or_head, c.signature FROM agent_answers a LEFT JOIN chain_ids k ON a.checkpoint_at IS NOT NULL AND k.chain = a.entry_chain
      LEFT JOIN audit_checkpoints c ON a.audit_seq >= 0 AND a.audit_seq < ${2 ** 40} AND c.ckey = k.id * ${2 ** 40} + a.audit_seq WHERE a.agent_id = ? AND a.nonce = ?`).all('a', 'n') as { detail: string }[]).map((p) => p.detail)
    expect(plan.join(' | ')).not.toMatch(/\bSCAN\b/)
    // audit_agent is gone; an agent's own read (agent + wallet, agentReads) still searches by its wallet's index.
    expect(v.prepare("SELECT name FROM sqlite_master WHERE name = 'audit_agent'").get()).toBeUndefined()
    const own = (v.prepare('EXPLAIN QUERY PLAN SELECT body FROM audit_entries WHERE seq > ? AND lower(wallet) = lower(?) AND agent_id = ? ORDER BY seq DESC, chain DESC LIMIT ?').all(1, 'w', 'a', 1) as { detail: string }[]).map((p) => p.detail)
    expect(own.join(' | ')).toMatch(/SEARCH audit_entries USING INDEX audit_wallet_lower/)
    v.close()
  })
})
