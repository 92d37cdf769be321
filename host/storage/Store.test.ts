import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import Database from 'better-sqlite3'
import pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'
import { freshDatabase, releasePostgres } from '../../test/helpers/postgres.js'
import { MIGRATIONS as PG_MIGRATIONS, PostgresStore } from './PostgresStore.js'
import { MIGRATIONS as SQLITE_MIGRATIONS, SqliteStore } from './SqliteStore.js'
import type { Store } from './Store.js'
import { AuditForkError, LeaseLostError, WalletLeaseLostError } from './storeErrors.js'
import { acquireWalletLease, clusterView, releaseWalletLease, renewWalletLeases } from './walletLeases.js'

const entry = (seq: number, hash = `0x${seq.toString(16).padStart(64, '0')}`, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ seq, hash, time: 1, event: 'sign_denied', wallet: null, agentId: null, verdict: 'deny', ...extra })
const blob = new Uint8Array([1, 2, 3])

type Made = { store: Store; conflicts(): Promise<number[]> }
const stores: Record<'sqlite' | 'postgres', () => Promise<Made>> = {
  async sqlite() {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'bursar-store-')), 'b.db')
    const store = new SqliteStore(file)
    return {
      store,
      async conflicts() {
        const db = new Database(file, { readonly: true })
        const seqs = db.prepare('SELECT seq FROM audit_conflicts').pluck().all() as number[]
        db.close()
        return seqs
      },
    }
  },
  async postgres() {
    const url = await freshDatabase()
    const store = await PostgresStore.open(url)
    return {
      store,
      async conflicts() {
        const c = new pg.Client({ connectionString: url })
        await c.connect()
        const r = await c.query('SELECT seq::int AS seq FROM audit_conflicts')
        await c.end()
        return r.rows.map((x: { seq: number }) => x.seq)
      },
    }
  },
}

afterAll(() => releasePostgres())

/** The host's store is idempotent (catchUp re-sends what may be stored) and refuses a fork (SECURITY.md F1): both stores. */
describe.each(['sqlite', 'postgres'] as const)('%s store: idempotent persist, forks refused, storedThrough, queries, answers', (kind) => {
  it('stores the same entries and snapshot twice without error; a second hash at a stored seq throws and stores nothing', async () => {
    const { store, conflicts } = await stores[kind]()
    await store.persist({ entries: [entry(0), entry(1)], checkpoint: null, sealed: { version: 1, auditSeq: 1, blob } })
    await store.persist({ entries: [entry(0), entry(1), entry(2)], checkpoint: null, sealed: { version: 1, auditSeq: 1, blob } })
    expect(await store.entriesAfter(-1, 10)).toEqual([entry(0), entry(1), entry(2)])
    await expect(
      store.persistMany([
        { entries: [entry(3)], checkpoint: null, sealed: null },
        { entries: [entry(1, `0x${'ee'.repeat(32)}`)], checkpoint: null, sealed: null },
      ]),
    ).rejects.toBeInstanceOf(AuditForkError)
    expect(await store.entriesAfter(-1, 10)).toHaveLength(3) // the whole batch was refused (entry 3 too)
    expect(await conflicts()).toEqual([1]) // evidence kept
    expect((await store.latestSnapshot())?.blob).toEqual(blob)
    await store.close()
  })

  it('storedThrough: the end of the complete run after a known seq, stopping at a hole', async () => {
    const { store } = await stores[kind]()
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

  it('storedThrough stays exact across holes filled late, refused batches, and a from below what it knew', async () => {
    const { store } = await stores[kind]()
    await store.persist({ entries: [0, 1, 2].map((s) => entry(s)), checkpoint: null, sealed: null })
    expect(await store.storedThrough(-1)).toBe(2)
    await store.persist({ entries: [3, 4, 6, 7].map((s) => entry(s)), checkpoint: null, sealed: null })
    expect(await store.storedThrough(2)).toBe(4) // hole at 5
    // A refused batch (a fork at 3) stores nothing: 5 is still missing.
    await expect(store.persistMany([{ entries: [entry(5)], checkpoint: null, sealed: null }, { entries: [entry(3, `0x${'ee'.repeat(32)}`)], checkpoint: null, sealed: null }])).rejects.toBeInstanceOf(AuditForkError)
    expect(await store.storedThrough(4)).toBe(4)
    await store.persist({ entries: [entry(5)], checkpoint: null, sealed: null })
    expect(await store.storedThrough(4)).toBe(7)
    expect(await store.storedThrough(-1)).toBe(7) // below what it knew
    expect(await store.storedThrough(1)).toBe(7)
    expect(await store.storedThrough(9)).toBe(9) // the caller knows more (nothing after 9 stored)
    await store.persist({ entries: [8, 9, 10].map((s) => entry(s)), checkpoint: null, sealed: null })
    expect(await store.storedThrough(7)).toBe(10)
    await store.close()
  })

  it('persistMany returns the highest seq; answers stored with the block, first answer wins; queries filter; checkpoints and snapshots keep the newest', async () => {
    const { store } = await stores[kind]()
    const ans = { agentId: 'ag1', nonce: 'n1', requestHash: 'h', status: 200, body: '{"a":1}', auditSeq: 1, decidedAt: 5 }
    const W = '0xAbC0000000000000000000000000000000000001'
    const max = await store.persistMany(
      [
        { entries: [entry(0, undefined, { wallet: W, agentId: 'ag1', requestId: 'n0' })], checkpoint: null, sealed: null },
        { entries: [entry(1, undefined, { wallet: W, agentId: 'ag2', verdict: 'allow', requestId: 'n1', time: 9 })], checkpoint: { seq: 1, head: 'x', time: 2, signature: 's' }, sealed: null },
      ],
      [ans],
    )
    expect(max).toBe(1)
    expect(await store.persistMany([], [{ ...ans, status: 500 }])).toBe(-1)
    expect(await store.agentAnswer('ag1', 'n1')).toEqual({ ...ans, fetchedAt: null, fetchCount: 0 })
    await store.markAnswersFetched([{ agentId: 'ag1', nonce: 'n1' }], 77)
    await store.markAnswersFetched([{ agentId: 'ag1', nonce: 'n1' }], 99)
    expect(await store.agentAnswer('ag1', 'n1')).toMatchObject({ fetchedAt: 77, fetchCount: 2 })
    expect(await store.agentAnswer('ag1', 'nope')).toBeNull()
    const seqs = async (q: Parameters<Store['queryEntries']>[0]) => (await store.queryEntries(q)).map((t) => JSON.parse(t).seq as number)
    expect(await seqs({ wallet: W.toLowerCase(), limit: 10 })).toEqual([0, 1])
    expect(await seqs({ agentId: 'ag2', limit: 10 })).toEqual([1])
    expect(await seqs({ verdict: 'allow', limit: 10 })).toEqual([1])
    expect(await seqs({ requestId: 'n0', limit: 10 })).toEqual([0])
    expect(await seqs({ fromTime: 5, limit: 10 })).toEqual([1])
    expect(await seqs({ toTime: 5, limit: 10 })).toEqual([0])
    expect(await seqs({ newestFirst: true, limit: 1 })).toEqual([1])
    expect(await store.latestCheckpoint()).toEqual({ seq: 1, head: 'x', time: 2, signature: 's' })
    expect(await store.checkpoints(-1, 5)).toHaveLength(1)
    // host35 (SQLite 8, PostgreSQL 5): checkpoints first-wins, across and within batches (a stored answer may point at one).
    await store.persistMany([{ entries: [], checkpoint: { seq: 1, head: 'x', time: 3, signature: 'later' }, sealed: null }])
    await store.persistMany([2, 3].map((time) => ({ entries: [], checkpoint: { seq: 7, head: 'y', time, signature: `s${time}` }, sealed: null })))
    expect(await store.checkpoints(-1, 5)).toEqual([{ seq: 1, head: 'x', time: 2, signature: 's' }, { seq: 7, head: 'y', time: 2, signature: 's2' }])
    for (let v = 1; v <= 8; v++) await store.persist({ entries: [], checkpoint: null, sealed: { version: v, auditSeq: 1, blob: new Uint8Array([v]) } })
    expect(await store.latestSnapshot()).toEqual({ version: 8, auditSeq: 1, blob: new Uint8Array([8]), wallets: [] })
    await store.close()
  })

  it('snapshots keyed by (wallet, version) (issue 15): the newest core and each wallet\'s newest blob; pruning one wallet keeps the other\'s', async () => {
    const { store } = await stores[kind]()
    const [A, B] = ['0x' + 'a'.repeat(40), '0x' + 'b'.repeat(40)]
    const blob = (...b: number[]) => new Uint8Array(b)
    // Core 1 with A@1 and B@1; core 2..9 with A only (A@2..9): B's newest stays its version 1.
    await store.persist({ entries: [], checkpoint: null, sealed: { version: 1, auditSeq: 0, blob: blob(1), wallets: [{ wallet: A, version: 1, blob: blob(0xa1) }, { wallet: B, version: 1, blob: blob(0xb1) }] } })
    for (let v = 2; v <= 9; v++) await store.persist({ entries: [], checkpoint: null, sealed: { version: v, auditSeq: v, blob: blob(v), wallets: [{ wallet: A, version: v, blob: blob(0xa0 + v) }] } })
    // A resend of a stored (wallet, version) is skipped, not a conflict.
    await store.persistMany([{ entries: [], checkpoint: null, sealed: { version: 9, auditSeq: 9, blob: blob(9), wallets: [{ wallet: A, version: 9, blob: blob(0xa9) }] } }])
    const snap = (await store.latestSnapshot())!
    expect({ ...snap, wallets: [...snap.wallets].sort((x, y) => x.wallet.localeCompare(y.wallet)) }).toEqual({
      version: 9, auditSeq: 9, blob: blob(9),
      wallets: [{ wallet: A, version: 9, auditSeq: 9, blob: blob(0xa9), chain: '' }, { wallet: B, version: 1, auditSeq: 0, blob: blob(0xb1), chain: '' }],
    })
    await store.close()
  })

  it('one group commit carrying the same wallet blob twice (a core re-sends each unacknowledged wallet blob, rt15) stores it once', async () => {
    const { store } = await stores[kind]()
    const A = '0x' + 'a'.repeat(40)
    const B = '0x' + 'b'.repeat(40)
    const a1 = { wallet: A, version: 1, blob: new Uint8Array([0xa1]) }
    await store.persistMany([
      { entries: [], checkpoint: null, sealed: { version: 1, auditSeq: 0, blob: new Uint8Array([1]), wallets: [a1] } },
      { entries: [], checkpoint: null, sealed: { version: 2, auditSeq: 1, blob: new Uint8Array([2]), wallets: [{ wallet: B, version: 1, blob: new Uint8Array([0xb1]) }, a1] } },
    ], [])
    const snap = (await store.latestSnapshot())!
    expect(snap.version).toBe(2)
    // Each wallet row keeps the seq of the first core it was stored with (issue 15 step 3: loadWallet's tail starts after it).
    expect([...snap.wallets].sort((x, y) => x.wallet.localeCompare(y.wallet))).toEqual([{ ...a1, auditSeq: 0, chain: '' }, { wallet: B, version: 1, auditSeq: 1, blob: new Uint8Array([0xb1]), chain: '' }])
    await store.close()
  })

  it('chains (issue 15 step 4): entries, checkpoints and core blobs keyed per chain; a fork is per chain; a wallet\'s entries follow its thread across chains', async () => {
    const { store, conflicts } = await stores[kind]()
    const [A, B] = ['a'.repeat(32), 'b'.repeat(32)]
    const W = '0x00000000000000000000000000000000000000aa'
    const h = (c: string, seq: number) => `0x${c.repeat(2).slice(0, 2)}${seq.toString(16).padStart(62, '0')}`
    const cp = (seq: number, c: string) => ({ seq, head: h(c, seq), time: 1, signature: `0x${'00'.repeat(64)}` })
    // The root chain (what a store held before chains): W's first two thread entries, then its drop.
    await store.persist({ entries: [entry(0), entry(1, h('0', 1), { wallet: W, walletSeq: 1 }), entry(2, h('0', 2), { wallet: W, walletSeq: 2 })], checkpoint: cp(2, '0'), sealed: { version: 7, auditSeq: 2, blob, wallets: [{ wallet: W, version: 3, blob: new Uint8Array([3]) }] } })
    // Two chains written at once, each from seq 0: the same seqs, other hashes — not a fork.
    await store.persistMany([{ entries: [entry(0, h(A, 0), { event: 'chain_started', chain: A }), entry(1, h(A, 1), { wallet: W, walletSeq: 3 })], checkpoint: cp(1, A), sealed: { version: 1, auditSeq: 1, blob: new Uint8Array([9]), wallets: [{ wallet: W, version: 4, blob: new Uint8Array([4]) }] } }], [], A)
    await store.persist({ entries: [entry(0, h(B, 0), { event: 'chain_started', chain: B }), entry(1, h(B, 1))], checkpoint: cp(1, B), sealed: { version: 1, auditSeq: 0, blob: new Uint8Array([8]) } }, B)
    await store.persist({ entries: [entry(2, h(B, 2), { wallet: W, walletSeq: 4 })], checkpoint: null, sealed: null }, B)
    expect(await store.chains()).toEqual(['', A, B])
    expect((await store.entriesAfter(-1, 10, A)).map((t) => JSON.parse(t).hash)).toEqual([h(A, 0), h(A, 1)])
    expect((await store.entriesAfter(0, 10, B)).map((t) => JSON.parse(t).hash)).toEqual([h(B, 1), h(B, 2)])
    expect((await store.entriesAfter(-1, 10)).map((t) => JSON.parse(t).seq)).toEqual([0, 1, 2]) // root unchanged
    expect(await store.storedThrough(-1, B)).toBe(2)
    expect(await store.storedThrough(-1, A)).toBe(1)
    expect(await store.checkpoints(-1, 10, A)).toEqual([cp(1, A)])
    // tidy41: exactly these seqs, of this chain only (B's at 1 is not A's; a seq with none, a duplicate, an impossible one: skipped).
    expect(await store.checkpointsAt([2, 0, 1, 1, 5, -1, 2 ** 60], A)).toEqual([cp(1, A)])
    expect(await store.checkpointsAt([0, 1, 2])).toEqual([cp(2, '0')])
    expect(await store.checkpointsAt([1], 'c'.repeat(32))).toEqual([])
    expect(await store.checkpointsAt([])).toEqual([])
    expect((await store.latestCheckpoint(B))?.head).toBe(h(B, 1))
    expect((await store.latestCheckpoint())?.head).toBe(h('0', 2))
    expect((await store.queryEntries({ chain: B, limit: 10, newestFirst: true })).map((t) => JSON.parse(t).hash)[0]).toBe(h(B, 2))
    expect(await store.queryEntries({ limit: 10 })).toHaveLength(8) // every chain
    // Core blobs per chain; each wallet's newest blob whichever chain stored it, naming that chain.
    expect((await store.latestSnapshot())?.version).toBe(7)
    const a = await store.latestSnapshot(A)
    expect(a?.blob).toEqual(new Uint8Array([9]))
    expect(a?.wallets).toEqual([{ wallet: W, version: 4, auditSeq: 1, blob: new Uint8Array([4]), chain: A }])
    expect((await store.latestSnapshot(B))?.wallets[0]?.chain).toBe(A)
    expect(await store.latestSnapshot('c'.repeat(32))).toBeNull()
    // W's thread across chains, in walletSeq order, paged by cursor.
    const rows = await store.walletEntries(W.toUpperCase().replace('0X', '0x'), { walletSeq: -1, chain: '', seq: -1 }, 3)
    expect(rows.map((r) => [r.chain, r.seq, r.walletSeq])).toEqual([['', 1, 1], ['', 2, 2], [A, 1, 3]])
    const more = await store.walletEntries(W, { walletSeq: 3, chain: A, seq: 1 }, 3)
    expect(more.map((r) => [r.chain, r.seq, r.walletSeq, JSON.parse(r.text).hash])).toEqual([[B, 2, 4, h(B, 2)]])
    // A second hash at a stored (chain, seq) is still a fork: refused, evidence kept.
    await expect(store.persist({ entries: [entry(1, h('f', 1))], checkpoint: null, sealed: null }, A)).rejects.toBeInstanceOf(AuditForkError)
    expect(await conflicts()).toEqual([1])
    await store.close()
  })
})

/** Issue 15 step 4: a store written before chains upgrades in place; its rows are the root chain ''. */
describe('stores written before chains upgrade: existing rows become the root chain', () => {
  const W = '0x00000000000000000000000000000000000000Aa'
  const old = [
    `INSERT INTO audit_entries(seq, hash, time, event, wallet, agent_id, verdict, body) VALUES (0, '0x00', 1, 'enclave_started', NULL, NULL, 'info', '${entry(0, '0x00')}')`,
    `INSERT INTO audit_entries(seq, hash, time, event, wallet, agent_id, verdict, body) VALUES (1, '0x01', 1, 'sign_allowed', '${W}', NULL, 'allow', '${entry(1, '0x01', { wallet: W, walletSeq: 1 })}')`,
    `INSERT INTO audit_checkpoints(seq, head, time, signature) VALUES (1, '0x01', 1, '0xsig')`,
  ]
  const check = async (store: Store) => {
    expect(await store.chains()).toEqual([''])
    expect((await store.entriesAfter(-1, 10)).map((t) => JSON.parse(t).seq)).toEqual([0, 1])
    expect(await store.storedThrough(-1)).toBe(1)
    expect((await store.latestCheckpoint())?.seq).toBe(1)
    expect((await store.latestSnapshot())?.blob).toEqual(blob)
    expect((await store.walletEntries(W, { walletSeq: -1, chain: '', seq: -1 }, 10)).map((r) => [r.chain, r.seq, r.walletSeq])).toEqual([['', 1, 1]])
    await store.persist({ entries: [entry(2)], checkpoint: null, sealed: null }) // the root chain continues
    await store.persist({ entries: [entry(0, '0x0b')], checkpoint: null, sealed: null }, 'b'.repeat(32)) // a new chain beside it
    expect(await store.storedThrough(1)).toBe(2)
    await store.close()
  }
  it('sqlite', async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'bursar-store-')), 'old.db')
    const db = new Database(file)
    db.exec('CREATE TABLE schema_migrations(version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)')
    SQLITE_MIGRATIONS.slice(0, 4).forEach((sql, i) => db.exec(sql) && db.prepare('INSERT INTO schema_migrations VALUES (?, 1)').run(i + 1))
    for (const sql of old) db.exec(sql)
    db.prepare("INSERT INTO snapshots(wallet, version, audit_seq, blob, stored_at) VALUES ('', 3, 1, ?, 1)").run(Buffer.from(blob))
    db.close()
    await check(new SqliteStore(file))
  })
  it('postgres', async () => {
    const url = await freshDatabase()
    const c = new pg.Client({ connectionString: url })
    await c.connect()
    await c.query('CREATE TABLE schema_migrations(version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)')
    for (const [i, sql] of PG_MIGRATIONS.slice(0, 3).entries()) await c.query(sql), await c.query('INSERT INTO schema_migrations VALUES ($1, 1)', [i + 1])
    for (const sql of old) await c.query(sql)
    await c.query("INSERT INTO snapshots(wallet, version, audit_seq, blob, stored_at) VALUES ('', 3, 1, $1, 1)", [Buffer.from(blob)])
    await c.end()
    await check(await PostgresStore.open(url))
  })
})

describe('postgres store: lease fencing (issue 15)', () => {
  it('a persist carrying an old epoch is refused by the database once another host took the lease; the new holder persists', async () => {
    const url = await freshDatabase()
    const a = await PostgresStore.open(url)
    const b = await PostgresStore.open(url)
    const la = await a.acquireLease('g', 'A', 'http://a', 300)
    expect(la?.epoch).toBe(1)
    expect(await b.acquireLease('g', 'B', 'http://b', 300)).toBeNull() // held and unexpired
    a.setFence({ group: 'g', epoch: 1 })
    await a.persist({ entries: [entry(0)], checkpoint: null, sealed: null })
    expect(await a.renewLease('g', 'A', 1, 300)).toBeGreaterThan(0)
    await new Promise((r) => setTimeout(r, 400)) // A stops renewing (paused): its lease expires
    // Expired: refused even before anyone takes over.
    await expect(a.persist({ entries: [entry(1)], checkpoint: null, sealed: null })).rejects.toBeInstanceOf(LeaseLostError)
    const lb = await b.acquireLease('g', 'B', 'http://b', 5_000)
    expect(lb?.epoch).toBe(2)
    b.setFence({ group: 'g', epoch: 2 })
    expect(await a.renewLease('g', 'A', 1, 300)).toBeNull() // lost for good
    await expect(a.persistMany([{ entries: [entry(1, `0x${'aa'.repeat(32)}`)], checkpoint: null, sealed: null }], [])).rejects.toBeInstanceOf(LeaseLostError)
    await b.persist({ entries: [entry(1)], checkpoint: null, sealed: null })
    expect(await b.entriesAfter(-1, 10)).toEqual([entry(0), entry(1)])
    expect(await b.currentLease('g')).toMatchObject({ holder: 'B', url: 'http://b', epoch: 2 })
    await a.close()
    await b.close()
  })

  it('a takeover waits for an in-flight persist of the old holder; after it, the old epoch is refused (no interleaving)', async () => {
    const url = await freshDatabase()
    const a = await PostgresStore.open(url)
    const b = await PostgresStore.open(url)
    await a.acquireLease('g', 'A', 'http://a', 200)
    a.setFence({ group: 'g', epoch: 1 })
    // Hold A's persist transaction open (a lock on its row) while the lease expires and B tries to take it.
    const c = await a.pool.connect()
    await c.query('BEGIN')
    await c.query("SELECT 1 FROM leases WHERE grp = 'g' AND epoch = 1 FOR SHARE")
    await new Promise((r) => setTimeout(r, 300))
    let tookOver = false
    const take = b.acquireLease('g', 'B', 'http://b', 5_000).then((l) => {
      tookOver = true
      return l
    })
    await new Promise((r) => setTimeout(r, 200))
    expect(tookOver).toBe(false) // blocked behind A's open transaction
    await c.query('COMMIT')
    c.release()
    expect((await take)?.epoch).toBe(2)
    await expect(a.persist({ entries: [entry(0)], checkpoint: null, sealed: null })).rejects.toBeInstanceOf(LeaseLostError)
    await a.close()
    await b.close()
  })

  it('wallet groups share one database without sharing tables: separate chains, answers, snapshots and leases', async () => {
    const url = await freshDatabase()
    const d = await PostgresStore.open(url) // group default: the public schema
    const g1 = await PostgresStore.open(url, { group: 'g1' })
    const g1b = await PostgresStore.open(url, { group: 'g1' }) // a second host of g1: the same tables
    const g2 = await PostgresStore.open(url, { group: 'g2' })
    for (const [i, st] of [d, g1, g2].entries()) {
      const l = await st.acquireLease(`grp${i}`, `H${i}`, `http://h${i}`, 5_000)
      expect(l?.epoch).toBe(1) // each group's first holder
      st.setFence({ group: `grp${i}`, epoch: 1 })
    }
    // The same seq, different hashes, in three groups: three chains, no fork.
    await d.persist({ entries: [entry(0, `0x${'0d'.repeat(32)}`)], checkpoint: null, sealed: null })
    await g1.persistMany([{ entries: [entry(0, `0x${'01'.repeat(32)}`)], checkpoint: null, sealed: { version: 1, auditSeq: 0, blob: new Uint8Array([1]) } }], [
      { agentId: 'a', nonce: 'n', requestHash: 'h', status: 200, body: '{}', auditSeq: 0, decidedAt: 1 },
    ])
    await g2.persist({ entries: [entry(0, `0x${'02'.repeat(32)}`)], checkpoint: null, sealed: null })
    const hashOf = async (st: PostgresStore) => (await st.entriesAfter(-1, 10)).map((t) => JSON.parse(t).hash as string)
    expect(await hashOf(d)).toEqual([`0x${'0d'.repeat(32)}`])
    expect(await hashOf(g1b)).toEqual([`0x${'01'.repeat(32)}`])
    expect(await hashOf(g2)).toEqual([`0x${'02'.repeat(32)}`])
    expect(await g1b.agentAnswer('a', 'n')).not.toBeNull()
    expect(await g2.agentAnswer('a', 'n')).toBeNull()
    expect(await g2.latestSnapshot()).toBeNull()
    expect(await g1b.currentLease('grp1')).toMatchObject({ holder: 'H1', epoch: 1 })
    expect(await g1b.currentLease('grp2')).toBeNull()
    await expect(PostgresStore.open(url, { group: 'x; DROP TABLE leases' })).rejects.toThrow(/wallet group name/)
    for (const st of [d, g1, g1b, g2]) await st.close()
  })
})

describe('postgres store: per-wallet leases and fencing (issue 15 step 4)', () => {
  const W1 = `0x${'11'.repeat(20)}`
  const W2 = `0x${'22'.repeat(20)}`
  const W3 = `0x${'33'.repeat(20)}`
  const named = (seq: number, wallet: string, hash?: string) => entry(seq, hash, { wallet: wallet.toUpperCase().replace('0X', '0x') })
  const fence = (holder: string, epochs: Array<[string, number]>) => {
    const claimed: string[] = []
    const f = { holder, url: `http://${holder}`, ttlMs: 5_000, epochs: new Map(epochs), onClaimed: (w: string) => (claimed.push(w), f.epochs.set(w, 1)) }
    return { f, claimed }
  }

  it('a block is stored only if every wallet it names is leased to this host at its epoch; new wallets are claimed; batched renew; history kept', async () => {
    const url = await freshDatabase()
    const a = await PostgresStore.open(url)
    const b = await PostgresStore.open(url)
    // 5 s, not 400 ms (rt32b: on a loaded machine the steps below took > 400 ms and W1 lapsed before its renewal);
    // the renewal at 400 ms below is what makes it lapse (a renewal sets the expiry, shorter or not).
    expect((await acquireWalletLease(a.pool, W1, 'A', 'http://A', 5_000))?.epoch).toBe(1)
    expect((await acquireWalletLease(b.pool, W2, 'B', 'http://B', 5_000))?.epoch).toBe(1)
    expect(await acquireWalletLease(b.pool, W1, 'B', 'http://B', 5_000)).toBeNull() // A holds it
    const fa = fence('A', [[W1, 1]])
    const fb = fence('B', [[W2, 1]])
    a.setWalletFence(fa.f)
    b.setWalletFence(fb.f)
    await a.persist({ entries: [named(0, W1)], checkpoint: null, sealed: null })
    // A block naming a wallet B holds: refused whole (nothing stored), by the wallet's name.
    const refused = a.persist({ entries: [named(1, W1), named(2, W2)], checkpoint: null, sealed: null })
    await expect(refused).rejects.toBeInstanceOf(WalletLeaseLostError)
    await expect(refused).rejects.toMatchObject({ wallets: [W2] })
    // A wallet blob counts as naming the wallet too.
    await expect(a.persist({ entries: [], checkpoint: null, sealed: { version: 1, auditSeq: 0, blob, wallets: [{ wallet: W2, version: 1, blob }] } })).rejects.toBeInstanceOf(WalletLeaseLostError)
    expect(await a.entriesAfter(-1, 10)).toEqual([named(0, W1)])
    // A wallet nobody ever leased (A's enclave just created it): claimed by the persist that first names it.
    await a.persist({ entries: [named(1, W3)], checkpoint: null, sealed: null })
    expect(fa.claimed).toEqual([W3])
    await expect(b.persist({ entries: [named(2, W3)], checkpoint: null, sealed: null })).rejects.toBeInstanceOf(WalletLeaseLostError)
    // One statement renews all of A's rows (and its heartbeat); W1's short lease then lapses while A is "paused".
    expect([...(await renewWalletLeases(a.pool, 'A', 'http://A', [{ wallet: W1, epoch: 1 }, { wallet: W3, epoch: 1 }], 400)).keys()].sort()).toEqual([W1, W3])
    await new Promise((r) => setTimeout(r, 500))
    expect((await acquireWalletLease(b.pool, W1, 'B', 'http://B', 5_000))?.epoch).toBe(2)
    fb.f.epochs.set(W1, 2)
    expect([...(await renewWalletLeases(a.pool, 'A', 'http://A', [{ wallet: W1, epoch: 1 }], 400)).keys()]).toEqual([]) // lost for good
    expect(await releaseWalletLease(a.pool, W1, 'A', 1)).toBe(false) // a stale holder cannot release either
    await expect(a.persist({ entries: [named(2, W1)], checkpoint: null, sealed: null })).rejects.toBeInstanceOf(WalletLeaseLostError)
    await b.persist({ entries: [named(2, W1)], checkpoint: null, sealed: null })
    // What A stored for W1 before it lost it may be sent again (catchUp, an unacknowledged final blob with a later
    // core): already stored, it needs no lease; anything new naming W1 does.
    await a.persist({ entries: [named(0, W1)], checkpoint: null, sealed: null })
    await expect(a.persist({ entries: [named(0, W1, `0x${'ee'.repeat(32)}`)], checkpoint: null, sealed: null })).rejects.toBeInstanceOf(WalletLeaseLostError)
    const v = await clusterView(b.pool)
    expect(v.leases.map((l) => [l.wallet, l.holder, l.epoch]).sort()).toEqual([[W1, 'B', 2], [W2, 'B', 1], [W3, 'A', 1]])
    expect(v.hosts.map((h) => h.node)).toEqual(['A']) // only A heartbeat (renew) so far
    const c = new pg.Client({ connectionString: url })
    await c.connect()
    const h = await c.query('SELECT wallet, epoch::int AS epoch, holder, previous_holder FROM wallet_lease_history ORDER BY wallet, epoch')
    await c.end()
    expect(h.rows.filter((r) => r.wallet === W1)).toEqual([{ wallet: W1, epoch: 1, holder: 'A', previous_holder: null }, { wallet: W1, epoch: 2, holder: 'B', previous_holder: 'A' }])
    await a.close()
    await b.close()
  })

  it('a takeover of one wallet waits for an in-flight persist naming it; after it, the old epoch is refused', async () => {
    const url = await freshDatabase()
    const a = await PostgresStore.open(url)
    const b = await PostgresStore.open(url)
    await acquireWalletLease(a.pool, W1, 'A', 'http://A', 200)
    a.setWalletFence(fence('A', [[W1, 1]]).f)
    const c = await a.pool.connect()
    await c.query('BEGIN')
    await c.query("SELECT bursar_fence_wallets($1, $2, 0, '', $5, $6, $7, '{}', '{}', $3, $4)", ['A', 'http://A', [W1], [1], [0], [`0x${'00'.repeat(32)}`], [W1]])
    await new Promise((r) => setTimeout(r, 300)) // expired meanwhile, but the open persist holds the row
    let tookOver = false
    const take = acquireWalletLease(b.pool, W1, 'B', 'http://B', 5_000).then((l) => ((tookOver = true), l))
    await new Promise((r) => setTimeout(r, 200))
    expect(tookOver).toBe(false)
    await c.query('COMMIT')
    c.release()
    expect((await take)?.epoch).toBe(2)
    await expect(a.persist({ entries: [named(0, W1)], checkpoint: null, sealed: null })).rejects.toBeInstanceOf(WalletLeaseLostError)
    await a.close()
    await b.close()
  })
})

/** Issue 18: SQLite fetch marks have no transaction of their own: they ride in the next persist, or go within a second. */
describe('sqlite store: fetch marks', () => {
  const raw = (file: string) => {
    const db = new Database(file, { readonly: true })
    const rows = db.prepare('SELECT nonce, fetched_at AS at, fetch_count AS n FROM agent_answers ORDER BY nonce').all()
    db.close()
    return rows
  }
  const ans = (nonce: string) => ({ agentId: 'ag', nonce, requestHash: 'h', status: 200, body: '{}', auditSeq: null, decidedAt: 1 })

  it('ride in the next persist transaction; without one they are written within a second; reads and close see them', async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'bursar-store-')), 'b.db')
    const store = new SqliteStore(file)
    await store.persistMany([{ entries: [entry(0)], checkpoint: null, sealed: null }], [ans('n0'), ans('n1')])
    await store.markAnswersFetched([{ agentId: 'ag', nonce: 'n0' }], 10)
    expect(raw(file)).toEqual([{ nonce: 'n0', at: null, n: 0 }, { nonce: 'n1', at: null, n: 0 }]) // not written yet
    await store.persistMany([{ entries: [entry(1)], checkpoint: null, sealed: null }], [ans('n2')])
    expect(raw(file)).toEqual([{ nonce: 'n0', at: 10, n: 1 }, { nonce: 'n1', at: null, n: 0 }, { nonce: 'n2', at: null, n: 0 }])
    // A refused persist (a fork) stores nothing, and its marks wait for the next one.
    await store.markAnswersFetched([{ agentId: 'ag', nonce: 'n1' }], 20)
    await expect(store.persistMany([{ entries: [entry(1, `0x${'ee'.repeat(32)}`)], checkpoint: null, sealed: null }])).rejects.toBeInstanceOf(AuditForkError)
    expect(raw(file)[1]).toEqual({ nonce: 'n1', at: null, n: 0 })
    await new Promise((r) => setTimeout(r, 1_300)) // no persist: the idle flush
    expect(raw(file)[1]).toEqual({ nonce: 'n1', at: 20, n: 1 })
    await store.markAnswersFetched([{ agentId: 'ag', nonce: 'n2' }], 30)
    expect(await store.agentAnswer('ag', 'n2')).toMatchObject({ fetchedAt: 30, fetchCount: 1 }) // a read flushes first
    await store.markAnswersFetched([{ agentId: 'ag', nonce: 'n2' }], 40)
    await store.close()
    expect(raw(file)[2]).toEqual({ nonce: 'n2', at: 30, n: 2 })
  })
})

/** Issue 18: WAL checkpoints run on a worker thread, not inside the writer's commits; the WAL is gone after close. */
describe('sqlite store: background WAL checkpoint', () => {
  it('copies committed frames into the database file without a commit reaching 1,000 frames; close removes the WAL', async () => {
    const { statSync, existsSync } = await import('node:fs')
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'bursar-store-')), 'b.db')
    const store = new SqliteStore(file)
    const before = statSync(file).size
    const big = 'x'.repeat(3_000)
    for (let i = 0; i < 40; i++) await store.persistMany([{ entries: [entry(i, undefined, { big })], checkpoint: null, sealed: null }])
    expect(statSync(file).size).toBe(before) // 40 commits, far below SQLite's own 1,000-frame checkpoint: all in the WAL
    const until = Date.now() + 5_000
    while (statSync(file).size === before && Date.now() < until) await new Promise((r) => setTimeout(r, 50))
    expect(statSync(file).size).toBeGreaterThan(before + 40 * 3_000) // the worker's pass copied them
    expect((await store.entriesAfter(-1, 100)).length).toBe(40)
    await store.close()
    expect(existsSync(`${file}-wal`)).toBe(false)
  })
})

/**
 * Issue 18 (lat18): the host asks storedThrough at every ack (each 2 s and after each stored snapshot). The run-end
 * query walks every entry after the seq it starts from; started at what the last answer and the commits since
 * already show complete, it walks none (it walked ~2,000 entries per ack at 1,000 answers/s: ~2–5 ms on the host's thread).
 */
describe('sqlite store: storedThrough starts where the complete run is known to end', () => {
  it('after contiguous commits, the query starts at the last committed seq; a refused batch moves nothing', async () => {
    const store = new SqliteStore(path.join(mkdtempSync(path.join(tmpdir(), 'bursar-store-')), 'b.db'))
    const stmts = (store as unknown as { stmts: { runEnd: { get(chain: string, from: number): unknown } } }).stmts
    const starts: number[] = []
    const real = stmts.runEnd.get.bind(stmts.runEnd)
    // (chain, from) since chains15: the merge left this spy passing one parameter (rt32b).
    stmts.runEnd = { get: (chain: string, from: number) => (starts.push(from), real(chain, from)) }
    await store.persist({ entries: [0, 1].map((s) => entry(s)), checkpoint: null, sealed: null })
    expect(await store.storedThrough(-1)).toBe(1)
    for (let s = 2; s < 1_998; s += 4) await store.persistMany([{ entries: [s, s + 1].map((x) => entry(x)), checkpoint: null, sealed: null }, { entries: [s + 2, s + 3].map((x) => entry(x)), checkpoint: null, sealed: null }])
    await expect(store.persist({ entries: [entry(1_998), entry(5, `0x${'ee'.repeat(32)}`)], checkpoint: null, sealed: null })).rejects.toBeInstanceOf(AuditForkError)
    expect(await store.storedThrough(1)).toBe(1_997)
    expect(starts).toEqual([-1]) // the second query was not needed: no entry after 1,997
    await store.persist({ entries: [1_999].map((s) => entry(s)), checkpoint: null, sealed: null })
    await store.persist({ entries: [1_998].map((s) => entry(s)), checkpoint: null, sealed: null })
    expect(await store.storedThrough(1_997)).toBe(1_999)
    expect(starts).toEqual([-1, 1_998]) // 1,999 came before 1,998: from 1,998 on, one row
    await store.close()
  })
})

/**
 * rt32b (red team of lat18 + chains15): the known run is a claim the enclave acts on (an ack through N lets it drop its
 * kept entries up to N). Attack: make it over-report — a run known on one chain answering for another, a chain's
 * commits lengthening another's run, a refused (forked) batch on one chain, another store instance on another file.
 */
describe('sqlite store: storedThroughCacheOverReports (the known run never answers past what is stored)', () => {
  it('per chain, across a refused fork and a fresh instance on another file', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'bursar-store-'))
    const store = new SqliteStore(path.join(dir, 'a.db'))
    const [A, B] = ['a'.repeat(32), 'b'.repeat(32)]
    const h = (c: string, seq: number) => `0x${c.repeat(2).slice(0, 2)}${seq.toString(16).padStart(62, '0')}`
    const block = (c: string, seqs: number[]) => ({ entries: seqs.map((s) => entry(s, h(c, s))), checkpoint: null, sealed: null })
    await store.persist(block(A, [0, 1, 2, 3, 4, 5]), A)
    expect(await store.storedThrough(-1, A)).toBe(5) // A's run known: (-1, 5]
    await store.persist(block(B, [0, 1, 2]), B)
    expect(await store.storedThrough(1, B)).toBe(2) // not A's 5
    expect(await store.storedThrough(-1)).toBe(-1) // the root chain has nothing
    // B's commits at A's next seqs do not lengthen A's run; A's own do.
    await store.persist(block(B, [4, 6, 7]), B)
    expect(await store.storedThrough(2, B)).toBe(2) // hole at B 3
    expect(await store.storedThrough(3, A)).toBe(5)
    // A refused batch on A (a fork at 3 after a new 6): nothing of it counts.
    await expect(store.persist({ entries: [entry(6, h(A, 6)), entry(3, `0x${'ee'.repeat(32)}`)], checkpoint: null, sealed: null }, A)).rejects.toBeInstanceOf(AuditForkError)
    expect(await store.storedThrough(5, A)).toBe(5)
    expect(await store.storedThrough(0, A)).toBe(5)
    await store.persist(block(B, [3]), B)
    expect(await store.storedThrough(2, B)).toBe(4) // hole at B 5
    await store.persist(block(B, [5]), B)
    expect(await store.storedThrough(4, B)).toBe(7)
    await store.close()
    // Another instance on another file (a host restarted on another store) knows no run: only what that file holds.
    const other = new SqliteStore(path.join(dir, 'b.db'))
    await other.persist(block(A, [0, 1]), A)
    expect(await other.storedThrough(-1, A)).toBe(1)
    expect(await other.storedThrough(0, B)).toBe(0)
    await other.close()
  })
})
