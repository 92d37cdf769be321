/**
 * UNTRUSTED: the scale-out store (issue 15). Same contract as SqliteStore: one transaction per group-committed
 * persist block, idempotent writes, a second hash at a stored seq is a refused fork (evidence kept). Persist
 * transactions run one at a time in call order, so the stored chain only ever grows as a prefix (a crash cannot
 * leave a later block stored and an earlier one not, which a new lease holder could not replay across).
 *
 * Leases with fencing: a host serves a wallet group only while it holds the group's row in `leases` (an expiring
 * row with a monotonic epoch). Once a host holds a lease, every persist transaction first locks that row
 * (`FOR SHARE`) and is refused (LeaseLostError, nothing stored) unless the row still carries this host's epoch and
 * has not expired by the database's clock. A takeover updates the row, so it waits for in-flight persists of the
 * old holder and every later one sees the new epoch: what the old holder's enclave decides after that is never
 * stored, hence never released.
 */
import pg from 'pg'
import type { Persist } from '../../shared/protocol/messages.js'
import type { AgentAnswer, AuditQuery, Store, StoredAgentAnswer, StoredCheckpoint, StoredSnapshot, WalletCursor, WalletEntryRow } from './Store.js'
import { AuditForkError, LeaseLostError, WalletLeaseLostError } from './storeErrors.js'
import { type AuditScan, auditScanPage, auditScanPageDown, onlyWallets, type TimeProbeRow, windowEnd, withFromJump } from './auditScan.js'
import { parsedEntry } from './parsedEntry.js'
import { newestSet } from './Store.js'
import { WALLET_LEASE_MIGRATIONS } from './walletLeases.js'

const KEEP_SNAPSHOTS = 5
export const MIGRATIONS: string[] = [
  `CREATE TABLE snapshots(version BIGINT PRIMARY KEY, audit_seq BIGINT NOT NULL, blob BYTEA NOT NULL, stored_at BIGINT NOT NULL);
   CREATE TABLE audit_entries(seq BIGINT PRIMARY KEY, hash TEXT NOT NULL, time BIGINT NOT NULL, event TEXT NOT NULL,
     wallet TEXT, agent_id TEXT, verdict TEXT NOT NULL, body TEXT NOT NULL, epoch BIGINT);
   CREATE INDEX audit_wallet ON audit_entries(lower(wallet), seq);
   CREATE INDEX audit_agent ON audit_entries(agent_id, seq);
   CREATE INDEX audit_time ON audit_entries(time);
   CREATE TABLE audit_checkpoints(seq BIGINT PRIMARY KEY, head TEXT NOT NULL, time BIGINT NOT NULL, signature TEXT NOT NULL);
   CREATE TABLE audit_conflicts(seq BIGINT NOT NULL, hash TEXT NOT NULL, body TEXT NOT NULL, stored_at BIGINT NOT NULL);
   CREATE TABLE agent_answers(agent_id TEXT NOT NULL, nonce TEXT NOT NULL, request_hash TEXT NOT NULL, status INTEGER NOT NULL,
     body TEXT NOT NULL, audit_seq BIGINT, decided_at BIGINT NOT NULL, fetched_at BIGINT, fetch_count INTEGER NOT NULL DEFAULT 0,
     PRIMARY KEY(agent_id, nonce));
   CREATE TABLE leases(grp TEXT PRIMARY KEY, holder TEXT NOT NULL, holder_url TEXT NOT NULL, epoch BIGINT NOT NULL,
     expires_at TIMESTAMPTZ NOT NULL, acquired_at TIMESTAMPTZ NOT NULL);
   CREATE TABLE lease_history(grp TEXT NOT NULL, epoch BIGINT NOT NULL, holder TEXT NOT NULL, holder_url TEXT NOT NULL,
     acquired_at TIMESTAMPTZ NOT NULL, previous_expired_at TIMESTAMPTZ, PRIMARY KEY(grp, epoch));`,
  // One persist block (group commit) in one statement: fence check, entries, fork check, checkpoints, snapshots,
  // answers. BL001: the lease epoch is not current (nothing stored); BF001: a different hash at a stored seq.
  `CREATE FUNCTION bursar_persist(p_grp text, p_epoch bigint,
     e_seq bigint[], e_hash text[], e_time bigint[], e_event text[], e_wallet text[], e_agent text[], e_verdict text[], e_body text[],
     c_seq bigint[], c_head text[], c_time bigint[], c_sig text[],
     s_version bigint[], s_audit bigint[], s_blob bytea[],
     a_agent text[], a_nonce text[], a_hash text[], a_status int[], a_body text[], a_seq bigint[], a_decided bigint[],
     p_now bigint) RETURNS void LANGUAGE plpgsql AS $fn$
   DECLARE f record;
   BEGIN
     IF p_grp IS NOT NULL THEN
       PERFORM 1 FROM leases WHERE grp = p_grp AND epoch = p_epoch AND expires_at > clock_timestamp() FOR SHARE;
       IF NOT FOUND THEN RAISE EXCEPTION 'lease epoch % of group % is not current', p_epoch, p_grp USING ERRCODE = 'BL001'; END IF;
     END IF;
     IF cardinality(e_seq) > 0 THEN
       INSERT INTO audit_entries(seq, hash, time, event, wallet, agent_id, verdict, body, epoch)
         SELECT s, h, t, ev, w, a, v, b, p_epoch FROM unnest(e_seq, e_hash, e_time, e_event, e_wallet, e_agent, e_verdict, e_body) AS x(s, h, t, ev, w, a, v, b)
       ON CONFLICT (seq) DO NOTHING;
       SELECT a.seq, a.hash AS stored, x.h AS offered INTO f FROM unnest(e_seq, e_hash) AS x(s, h) JOIN audit_entries a ON a.seq = x.s WHERE a.hash <> x.h LIMIT 1;
       IF FOUND THEN
         RAISE EXCEPTION 'audit fork at seq %', f.seq USING ERRCODE = 'BF001', DETAIL = json_build_object('seq', f.seq, 'stored', f.stored, 'offered', f.offered)::text;
       END IF;
     END IF;
     IF cardinality(c_seq) > 0 THEN
       INSERT INTO audit_checkpoints(seq, head, time, signature)
         SELECT DISTINCT ON (s) s, h, t, g FROM unnest(c_seq, c_head, c_time, c_sig) WITH ORDINALITY AS x(s, h, t, g, o) ORDER BY s, o DESC
       ON CONFLICT (seq) DO UPDATE SET head = EXCLUDED.head, time = EXCLUDED.time, signature = EXCLUDED.signature;
     END IF;
     IF cardinality(s_version) > 0 THEN
       INSERT INTO snapshots(version, audit_seq, blob, stored_at) SELECT v, a, b, p_now FROM unnest(s_version, s_audit, s_blob) AS x(v, a, b)
       ON CONFLICT (version) DO NOTHING;
       DELETE FROM snapshots WHERE version <= (SELECT MAX(version) FROM snapshots) - ${KEEP_SNAPSHOTS};
     END IF;
     IF cardinality(a_agent) > 0 THEN
       INSERT INTO agent_answers(agent_id, nonce, request_hash, status, body, audit_seq, decided_at)
         SELECT * FROM unnest(a_agent, a_nonce, a_hash, a_status, a_body, a_seq, a_decided)
       ON CONFLICT DO NOTHING;
     END IF;
   END $fn$;`,
  // Issue 15: snapshots keyed by (wallet, version): the core blob is wallet '', each wallet's blob its address.
  `ALTER TABLE snapshots ADD COLUMN wallet TEXT NOT NULL DEFAULT '';
   ALTER TABLE snapshots DROP CONSTRAINT snapshots_pkey;
   ALTER TABLE snapshots ADD PRIMARY KEY (wallet, version);
   DROP FUNCTION bursar_persist(text, bigint, bigint[], text[], bigint[], text[], text[], text[], text[], text[], bigint[], text[], bigint[], text[],
     bigint[], bigint[], bytea[], text[], text[], text[], int[], text[], bigint[], bigint[], bigint);
   CREATE FUNCTION bursar_persist(p_grp text, p_epoch bigint,
     e_seq bigint[], e_hash text[], e_time bigint[], e_event text[], e_wallet text[], e_agent text[], e_verdict text[], e_body text[],
     c_seq bigint[], c_head text[], c_time bigint[], c_sig text[],
     s_wallet text[], s_version bigint[], s_audit bigint[], s_blob bytea[],
     a_agent text[], a_nonce text[], a_hash text[], a_status int[], a_body text[], a_seq bigint[], a_decided bigint[],
     p_now bigint) RETURNS void LANGUAGE plpgsql AS $fn$
   DECLARE f record;
   BEGIN
     IF p_grp IS NOT NULL THEN
       PERFORM 1 FROM leases WHERE grp = p_grp AND epoch = p_epoch AND expires_at > clock_timestamp() FOR SHARE;
       IF NOT FOUND THEN RAISE EXCEPTION 'lease epoch % of group % is not current', p_epoch, p_grp USING ERRCODE = 'BL001'; END IF;
     END IF;
     IF cardinality(e_seq) > 0 THEN
       INSERT INTO audit_entries(seq, hash, time, event, wallet, agent_id, verdict, body, epoch)
         SELECT s, h, t, ev, w, a, v, b, p_epoch FROM unnest(e_seq, e_hash, e_time, e_event, e_wallet, e_agent, e_verdict, e_body) AS x(s, h, t, ev, w, a, v, b)
       ON CONFLICT (seq) DO NOTHING;
       SELECT a.seq, a.hash AS stored, x.h AS offered INTO f FROM unnest(e_seq, e_hash) AS x(s, h) JOIN audit_entries a ON a.seq = x.s WHERE a.hash <> x.h LIMIT 1;
       IF FOUND THEN
         RAISE EXCEPTION 'audit fork at seq %', f.seq USING ERRCODE = 'BF001', DETAIL = json_build_object('seq', f.seq, 'stored', f.stored, 'offered', f.offered)::text;
       END IF;
     END IF;
     IF cardinality(c_seq) > 0 THEN
       INSERT INTO audit_checkpoints(seq, head, time, signature)
         SELECT DISTINCT ON (s) s, h, t, g FROM unnest(c_seq, c_head, c_time, c_sig) WITH ORDINALITY AS x(s, h, t, g, o) ORDER BY s, o DESC
       ON CONFLICT (seq) DO UPDATE SET head = EXCLUDED.head, time = EXCLUDED.time, signature = EXCLUDED.signature;
     END IF;
     IF cardinality(s_version) > 0 THEN
       INSERT INTO snapshots(wallet, version, audit_seq, blob, stored_at) SELECT w, v, a, b, p_now FROM unnest(s_wallet, s_version, s_audit, s_blob) AS x(w, v, a, b)
       ON CONFLICT (wallet, version) DO NOTHING;
       DELETE FROM snapshots s WHERE s.wallet = ANY(s_wallet) AND s.version <= (SELECT MAX(m.version) FROM snapshots m WHERE m.wallet = s.wallet) - ${KEEP_SNAPSHOTS};
     END IF;
     IF cardinality(a_agent) > 0 THEN
       INSERT INTO agent_answers(agent_id, nonce, request_hash, status, body, audit_seq, decided_at)
         SELECT * FROM unnest(a_agent, a_nonce, a_hash, a_status, a_body, a_seq, a_decided)
       ON CONFLICT DO NOTHING;
     END IF;
   END $fn$;`,
  // Issue 15 step 4: several chains in one store. Entries and checkpoints keyed by (chain, seq), core blobs per chain
  // (wallet rows keep the chain that stored them); existing rows are the root chain ''. wallet_seq (0: none) orders a
  // wallet's thread across chains. bursar_persist takes the chain.
  `ALTER TABLE audit_entries ADD COLUMN chain TEXT NOT NULL DEFAULT '', ADD COLUMN wallet_seq BIGINT NOT NULL DEFAULT 0;
   UPDATE audit_entries SET wallet_seq = (body::jsonb ->> 'walletSeq')::bigint WHERE body LIKE '%"walletSeq":%';
   ALTER TABLE audit_entries DROP CONSTRAINT audit_entries_pkey, ADD PRIMARY KEY (chain, seq);
   CREATE INDEX audit_wallet_thread ON audit_entries(lower(wallet), wallet_seq, chain, seq);
   ALTER TABLE audit_checkpoints ADD COLUMN chain TEXT NOT NULL DEFAULT '';
   ALTER TABLE audit_checkpoints DROP CONSTRAINT audit_checkpoints_pkey, ADD PRIMARY KEY (chain, seq);
   ALTER TABLE snapshots ADD COLUMN chain TEXT NOT NULL DEFAULT '';
   ALTER TABLE snapshots DROP CONSTRAINT snapshots_pkey, ADD PRIMARY KEY (chain, wallet, version);
   ALTER TABLE audit_conflicts ADD COLUMN chain TEXT NOT NULL DEFAULT '';
   DROP FUNCTION bursar_persist(text, bigint, bigint[], text[], bigint[], text[], text[], text[], text[], text[], bigint[], text[], bigint[], text[],
     text[], bigint[], bigint[], bytea[], text[], text[], text[], int[], text[], bigint[], bigint[], bigint);
   CREATE FUNCTION bursar_persist(p_grp text, p_epoch bigint, p_chain text,
     e_seq bigint[], e_hash text[], e_time bigint[], e_event text[], e_wallet text[], e_agent text[], e_verdict text[], e_body text[], e_wseq bigint[],
     c_seq bigint[], c_head text[], c_time bigint[], c_sig text[],
     s_wallet text[], s_version bigint[], s_audit bigint[], s_blob bytea[],
     a_agent text[], a_nonce text[], a_hash text[], a_status int[], a_body text[], a_seq bigint[], a_decided bigint[],
     p_now bigint) RETURNS void LANGUAGE plpgsql AS $fn$
   DECLARE f record;
   BEGIN
     IF p_grp IS NOT NULL THEN
       PERFORM 1 FROM leases WHERE grp = p_grp AND epoch = p_epoch AND expires_at > clock_timestamp() FOR SHARE;
       IF NOT FOUND THEN RAISE EXCEPTION 'lease epoch % of group % is not current', p_epoch, p_grp USING ERRCODE = 'BL001'; END IF;
     END IF;
     IF cardinality(e_seq) > 0 THEN
       INSERT INTO audit_entries(chain, seq, hash, time, event, wallet, agent_id, verdict, body, wallet_seq, epoch)
         SELECT p_chain, s, h, t, ev, w, a, v, b, ws, p_epoch FROM unnest(e_seq, e_hash, e_time, e_event, e_wallet, e_agent, e_verdict, e_body, e_wseq) AS x(s, h, t, ev, w, a, v, b, ws)
       ON CONFLICT (chain, seq) DO NOTHING;
       SELECT a.seq, a.hash AS stored, x.h AS offered INTO f FROM unnest(e_seq, e_hash) AS x(s, h) JOIN audit_entries a ON a.chain = p_chain AND a.seq = x.s WHERE a.hash <> x.h LIMIT 1;
       IF FOUND THEN
         RAISE EXCEPTION 'audit fork at seq %', f.seq USING ERRCODE = 'BF001', DETAIL = json_build_object('seq', f.seq, 'stored', f.stored, 'offered', f.offered)::text;
       END IF;
     END IF;
     IF cardinality(c_seq) > 0 THEN
       INSERT INTO audit_checkpoints(chain, seq, head, time, signature)
         SELECT DISTINCT ON (s) p_chain, s, h, t, g FROM unnest(c_seq, c_head, c_time, c_sig) WITH ORDINALITY AS x(s, h, t, g, o) ORDER BY s, o DESC
       ON CONFLICT (chain, seq) DO UPDATE SET head = EXCLUDED.head, time = EXCLUDED.time, signature = EXCLUDED.signature;
     END IF;
     IF cardinality(s_version) > 0 THEN
       INSERT INTO snapshots(chain, wallet, version, audit_seq, blob, stored_at) SELECT p_chain, w, v, a, b, p_now FROM unnest(s_wallet, s_version, s_audit, s_blob) AS x(w, v, a, b)
       ON CONFLICT (chain, wallet, version) DO NOTHING;
       DELETE FROM snapshots s WHERE s.chain = p_chain AND s.wallet = ANY(s_wallet)
         AND s.version <= (SELECT MAX(m.version) FROM snapshots m WHERE m.chain = p_chain AND m.wallet = s.wallet) - ${KEEP_SNAPSHOTS};
     END IF;
     IF cardinality(a_agent) > 0 THEN
       INSERT INTO agent_answers(agent_id, nonce, request_hash, status, body, audit_seq, decided_at)
         SELECT * FROM unnest(a_agent, a_nonce, a_hash, a_status, a_body, a_seq, a_decided)
       ON CONFLICT DO NOTHING;
     END IF;
   END $fn$;`,
]
// Issue 18 (host35), in step with SqliteStore's migration 8: checkpoints first-wins, within a batch and across batches
// (SQLite's compact answers point at the row; here answers stay whole, the rule is kept the same for both stores).
// audit_agent goes as in SQLite (a leaf per agent per group commit; the operator's agent filter without a wallet scans).
MIGRATIONS.push(
  `${firstWinsCheckpoints(MIGRATIONS[3]!.slice(MIGRATIONS[3]!.indexOf('CREATE FUNCTION bursar_persist')))}
   DROP INDEX audit_agent;`,
)
/** Migration 4's bursar_persist with checkpoints first-wins (the same signature: CREATE OR REPLACE). */
function firstWinsCheckpoints(fn: string): string {
  const out = fn
    .replace('CREATE FUNCTION bursar_persist', 'CREATE OR REPLACE FUNCTION bursar_persist')
    .replace('ORDER BY s, o DESC', 'ORDER BY s, o')
    .replace('ON CONFLICT (chain, seq) DO UPDATE SET head = EXCLUDED.head, time = EXCLUDED.time, signature = EXCLUDED.signature;', 'ON CONFLICT (chain, seq) DO NOTHING;')
  if (out.includes('DO UPDATE') || out.includes('o DESC')) throw new Error('bursar_persist: migration 5 could not be derived from migration 4')
  return out
}
/** An arbitrary constant: the advisory lock that serializes migrations of hosts starting at once. */
const MIGRATION_LOCK = 0x62757273

/** int8 as a JS number (seqs, times and versions stay far below 2^53). */
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === 20 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
}

/**
 * Per-wallet mode (issue 15 step 4): the epochs this host holds, by lower-cased wallet address (the keeper's live
 * map). A persist names every wallet of its entries and wallet blobs with its epoch here (0 when absent: claimed if
 * never leased, i.e. a wallet this host's enclave just created; `onClaimed` then tells the keeper).
 */
export type WalletFence = {
  holder: string
  url: string
  ttlMs: number
  epochs: Map<string, number>
  onClaimed(wallet: string): void
}

export type Lease = { group: string; holder: string; url: string; epoch: number; expiresInMs: number }

/** The schema of a wallet group's tables: null (public) for `default`. Group names are checked (a-z, 0-9, _). */
function schemaOf(group: string): string | null {
  if (!/^[a-z0-9_]{1,48}$/.test(group)) throw new Error(`wallet group name ${JSON.stringify(group)}: 1–48 of a-z, 0-9, _`)
  return group === 'default' ? null : `g_${group}`
}

export class PostgresStore implements Store {
  readonly kind = 'postgres'
  /** Set by the host once it holds a lease: every persist then checks it inside its transaction. */
  private fence: { group: string; epoch: number } | null = null
  private walletFence: WalletFence | null = null
  private tail: Promise<unknown> = Promise.resolve()

  private constructor(readonly pool: pg.Pool) {}

  /**
   * `group`: the wallet group this store serves. `default` uses the database's `public` schema; any other group its
   * own schema `g_<group>` (every table, the lease row and `bursar_persist`), so several groups — each served by its
   * own pairs — share one PostgreSQL without their audit chains colliding.
   */
  static async open(url: string, opts: { max?: number; group?: string } = {}): Promise<PostgresStore> {
    const schema = schemaOf(opts.group ?? 'default')
    const pool = new pg.Pool({ connectionString: url, max: opts.max ?? 8, types, ...(schema ? { options: `-c search_path=${schema}` } : {}) })
    pool.on('error', () => {}) // an idle client's broken connection: the next query reconnects
    const store = new PostgresStore(pool)
    await store.migrate(schema)
    return store
  }

  private async migrate(schema: string | null): Promise<void> {
    const c = await this.pool.connect()
    try {
      await c.query('BEGIN')
      await c.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK])
      if (schema) await c.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`)
      await c.query('CREATE TABLE IF NOT EXISTS schema_migrations(version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)')
      const done = new Set((await c.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map((r) => r.version))
      // Per-wallet lease migrations are numbered from 1001 (walletLeases.ts), after every store migration.
      const all: Array<[number, string]> = [...MIGRATIONS.map((sql, i) => [i + 1, sql] as [number, string]), ...WALLET_LEASE_MIGRATIONS.map((sql, i) => [1001 + i, sql] as [number, string])]
      for (const [version, sql] of all) {
        if (done.has(version)) continue
        await c.query(sql)
        await c.query('INSERT INTO schema_migrations(version, applied_at) VALUES ($1, $2)', [version, Date.now()])
      }
      await c.query('COMMIT')
    } catch (err) {
      await c.query('ROLLBACK').catch(() => {})
      throw err
    } finally {
      c.release()
    }
  }

  /** From now on every persist must carry this epoch (the host holds the group's lease). */
  setFence(fence: { group: string; epoch: number } | null): void {
    this.fence = fence
  }

  /** Per-wallet mode: from now on every persist is fenced by the leases of the wallets it names (walletLeases.ts). */
  setWalletFence(fence: WalletFence | null): void {
    this.walletFence = fence
  }

  /**
   * Takes the group's lease if nobody holds it or the holder's expired (by the database clock): the epoch goes up
   * by one. Returns null when another host holds an unexpired lease.
   */
  async acquireLease(group: string, holder: string, url: string, ttlMs: number): Promise<Lease | null> {
    const c = await this.pool.connect()
    try {
      await c.query('BEGIN')
      const prev = await c.query<{ expires_at: Date }>('SELECT expires_at FROM leases WHERE grp = $1 FOR UPDATE', [group])
      const r = await c.query<{ epoch: number; ms: number }>(
        `INSERT INTO leases(grp, holder, holder_url, epoch, expires_at, acquired_at)
           VALUES ($1, $2, $3, 1, clock_timestamp() + $4 * interval '1 millisecond', clock_timestamp())
         ON CONFLICT (grp) DO UPDATE SET holder = EXCLUDED.holder, holder_url = EXCLUDED.holder_url, epoch = leases.epoch + 1,
           expires_at = EXCLUDED.expires_at, acquired_at = EXCLUDED.acquired_at
         WHERE leases.expires_at < clock_timestamp()
         RETURNING epoch, (extract(epoch FROM expires_at - clock_timestamp()) * 1000)::float8 AS ms`,
        [group, holder, url, ttlMs],
      )
      const row = r.rows[0]
      if (!row) {
        await c.query('ROLLBACK')
        return null
      }
      await c.query(
        'INSERT INTO lease_history(grp, epoch, holder, holder_url, acquired_at, previous_expired_at) VALUES ($1, $2, $3, $4, clock_timestamp(), $5)',
        [group, row.epoch, holder, url, prev.rows[0]?.expires_at ?? null],
      )
      await c.query('COMMIT')
      return { group, holder, url, epoch: row.epoch, expiresInMs: row.ms }
    } catch (err) {
      await c.query('ROLLBACK').catch(() => {})
      throw err
    } finally {
      c.release()
    }
  }

  /** Extends the lease if this host still holds it at this epoch and it has not expired; false otherwise (lost). */
  async renewLease(group: string, holder: string, epoch: number, ttlMs: number): Promise<number | null> {
    const r = await this.pool.query<{ ms: number }>(
      `UPDATE leases SET expires_at = clock_timestamp() + $4 * interval '1 millisecond'
        WHERE grp = $1 AND holder = $2 AND epoch = $3 AND expires_at > clock_timestamp()
        RETURNING (extract(epoch FROM expires_at - clock_timestamp()) * 1000)::float8 AS ms`,
      [group, holder, epoch, ttlMs],
    )
    return r.rows[0]?.ms ?? null
  }

  /** Gives the lease up at once (clean shutdown): the next host need not wait for it to expire. */
  async releaseLease(group: string, holder: string, epoch: number): Promise<void> {
    await this.pool.query('UPDATE leases SET expires_at = clock_timestamp() WHERE grp = $1 AND holder = $2 AND epoch = $3', [group, holder, epoch])
  }

  async currentLease(group: string): Promise<Lease | null> {
    const r = await this.pool.query<{ holder: string; holder_url: string; epoch: number; ms: number }>(
      `SELECT holder, holder_url, epoch, (extract(epoch FROM expires_at - clock_timestamp()) * 1000)::float8 AS ms FROM leases WHERE grp = $1`,
      [group],
    )
    const row = r.rows[0]
    return row ? { group, holder: row.holder, url: row.holder_url, epoch: row.epoch, expiresInMs: row.ms } : null
  }

  /** Serializes persist transactions in call order (see the file comment). */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn, fn)
    this.tail = run.catch(() => {})
    return run
  }

  async persist(p: Persist, chain = ''): Promise<void> {
    await this.persistMany([p], [], chain)
  }

  persistMany(ps: Persist[], answers: AgentAnswer[] = [], chain = ''): Promise<number> {
    return this.serial(() => this.persistTx(ps, answers, chain))
  }

  /** One round trip: the whole block is one call of `bursar_persist` (one statement, so one transaction). */
  private async persistTx(ps: Persist[], answers: AgentAnswer[], chain: string): Promise<number> {
    const fence = this.fence
    const e = { seq: [] as number[], hash: [] as string[], time: [] as number[], event: [] as string[], wallet: [] as (string | null)[], agent: [] as (string | null)[], verdict: [] as string[], body: [] as string[], wseq: [] as number[] }
    const ck = { seq: [] as number[], head: [] as string[], time: [] as number[], sig: [] as string[] }
    const sn = { wallet: [] as string[], version: [] as number[], auditSeq: [] as number[], blob: [] as Buffer[] }
    let maxSeq = -1
    for (const p of ps) {
      for (let i = 0; i < p.entries.length; i++) {
        const [text, x] = [p.entries[i]!, parsedEntry(p, i)] // the gateway's parse of the same text, shared (cpu18)
        const seq = Number(x.seq)
        maxSeq = Math.max(maxSeq, seq)
        e.seq.push(seq)
        e.hash.push(String(x.hash))
        e.time.push(Number(x.time))
        e.event.push(String(x.event))
        e.wallet.push((x.wallet as string | null | undefined) ?? null)
        e.agent.push((x.agentId as string | null | undefined) ?? null)
        e.verdict.push(String(x.verdict))
        e.body.push(text)
        e.wseq.push(Number(x.walletSeq ?? 0))
      }
      if (p.checkpoint) {
        ck.seq.push(p.checkpoint.seq)
        ck.head.push(p.checkpoint.head)
        ck.time.push(p.checkpoint.time)
        ck.sig.push(p.checkpoint.signature)
      }
      if (p.sealed) {
        for (const w of [{ wallet: '', version: p.sealed.version, blob: p.sealed.blob }, ...(p.sealed.wallets ?? [])]) {
          sn.wallet.push(w.wallet)
          sn.version.push(w.version)
          sn.auditSeq.push(p.sealed.auditSeq)
          sn.blob.push(Buffer.from(w.blob))
        }
      }
    }
    // Per-wallet fencing: every wallet the block names, with the epoch this host holds it at (0: claim a new one).
    const wf = this.walletFence
    const named = wf ? [...new Set([...e.wallet, ...sn.wallet].flatMap((w) => (w ? [w.toLowerCase()] : [])))] : []
    const epochs = named.map((w) => wf?.epochs.get(w) ?? 0)
    try {
      const r = await this.pool.query<{ claimed: string[] }>(
        'SELECT bursar_persist($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28), fence.claimed FROM (SELECT bursar_fence_wallets($29, $30, $31, $3, $4, $5, $8, $17, $18, $32, $33) AS claimed) AS fence',
        [
          fence?.group ?? null,
          fence?.epoch ?? null,
          chain,
          e.seq, e.hash, e.time, e.event, e.wallet, e.agent, e.verdict, e.body, e.wseq,
          ck.seq, ck.head, ck.time, ck.sig,
          sn.wallet, sn.version, sn.auditSeq, sn.blob,
          answers.map((a) => a.agentId), answers.map((a) => a.nonce), answers.map((a) => a.requestHash), answers.map((a) => a.status),
          answers.map((a) => a.body), answers.map((a) => a.auditSeq), answers.map((a) => a.decidedAt),
          Date.now(),
          wf?.holder ?? null, wf?.url ?? null, wf?.ttlMs ?? 0, named, epochs,
        ],
      )
      // The wallets this block claimed (created by this host's enclave, never leased before): the keeper holds them now.
      if (wf) for (const w of r.rows[0]?.claimed ?? []) if (!wf.epochs.has(w)) wf.onClaimed(w)
      return maxSeq
    } catch (err) {
      const pgErr = err as { code?: string; detail?: string }
      if (pgErr.code === 'BL001' && fence) throw new LeaseLostError(fence.group, fence.epoch)
      if (pgErr.code === 'BL002') throw new WalletLeaseLostError((pgErr.detail ?? '').split(',').filter(Boolean))
      if (pgErr.code === 'BF001') {
        // Keep the evidence of a fork (outside the refused transaction), then refuse the batch.
        const f = JSON.parse(pgErr.detail ?? '{}') as { seq: number; stored: string; offered: string }
        const fork = new AuditForkError(Number(f.seq), f.stored, f.offered)
        const body = e.body[e.seq.indexOf(fork.seq)] ?? fork.message
        await this.pool.query('INSERT INTO audit_conflicts(chain, seq, hash, body, stored_at) VALUES ($1, $2, $3, $4, $5)', [chain, fork.seq, fork.hash, body, Date.now()]).catch(() => {})
        throw fork
      }
      throw err
    }
  }

  async agentAnswer(agentId: string, nonce: string): Promise<StoredAgentAnswer | null> {
    const r = await this.pool.query<StoredAgentAnswer>(
      `SELECT agent_id AS "agentId", nonce, request_hash AS "requestHash", status, body, audit_seq AS "auditSeq", decided_at AS "decidedAt",
         fetched_at AS "fetchedAt", fetch_count AS "fetchCount" FROM agent_answers WHERE agent_id = $1 AND nonce = $2`,
      [agentId, nonce],
    )
    return r.rows[0] ?? null
  }

  /**
   * Fetch marks not yet written: one per (agent, nonce), counted (rt38: a flood of resends of one answer is one entry,
   * not one per fetch), and at most one UPDATE in flight (rt38: an UPDATE per event-loop turn took one pool connection
   * each while the one before waited, so a slow or locked row left none for the answers' commits). close() writes them.
   */
  private readonly marks = new Map<string, { agentId: string; nonce: string; n: number; at: number }>()
  private marksWrite: Promise<void> | null = null

  markAnswersFetched(keys: { agentId: string; nonce: string }[], at: number): Promise<void> {
    for (const k of keys) {
      const id = `${k.agentId}\n${k.nonce}`
      const m = this.marks.get(id)
      if (m) m.n++
      else this.marks.set(id, { ...k, n: 1, at })
    }
    return (this.marksWrite ??= this.writeMarks())
  }

  /** Writes the marks held after this turn, then those that came while it ran, until none are left. */
  private async writeMarks(): Promise<void> {
    try {
      await new Promise<void>((resolve) => setImmediate(resolve)) // this turn's marks in one UPDATE
      while (this.marks.size > 0) {
        const batch = [...this.marks.values()]
        this.marks.clear()
        await this.pool.query(
          `UPDATE agent_answers a SET fetched_at = COALESCE(a.fetched_at, k.at), fetch_count = a.fetch_count + k.n
             FROM unnest($1::text[], $2::text[], $3::int[], $4::bigint[]) AS k(agent_id, nonce, n, at)
            WHERE a.agent_id = k.agent_id AND a.nonce = k.nonce`,
          [batch.map((k) => k.agentId), batch.map((k) => k.nonce), batch.map((k) => k.n), batch.map((k) => k.at)],
        )
      }
    } finally {
      this.marksWrite = null
    }
  }

  async storedThrough(from: number, chain = ''): Promise<number> {
    const has = await this.pool.query('SELECT 1 FROM audit_entries WHERE chain = $2 AND seq = $1', [from + 1, chain])
    if (has.rowCount === 0) return from
    const r = await this.pool.query<{ end: number }>(
      `SELECT MIN(a.seq) AS end FROM audit_entries a WHERE a.chain = $2 AND a.seq > $1 AND NOT EXISTS (SELECT 1 FROM audit_entries b WHERE b.chain = a.chain AND b.seq = a.seq + 1)`,
      [from, chain],
    )
    return r.rows[0]!.end
  }

  async latestSnapshot(chain = ''): Promise<StoredSnapshot | null> {
    const r = await this.pool.query<{ wallet: string; version: number; auditSeq: number; blob: Buffer; chain: string }>(
      `(SELECT wallet, version, audit_seq AS "auditSeq", blob, chain FROM snapshots WHERE chain = $1 AND wallet = '' ORDER BY version DESC LIMIT 1)
       UNION ALL (SELECT DISTINCT ON (wallet) wallet, version, audit_seq AS "auditSeq", blob, chain FROM snapshots WHERE wallet <> '' ORDER BY wallet, version DESC)`,
      [chain],
    )
    return newestSet(r.rows)
  }

  async entriesAfter(after: number, limit: number, chain = ''): Promise<string[]> {
    const r = await this.pool.query<{ body: string }>('SELECT body FROM audit_entries WHERE chain = $3 AND seq > $1 ORDER BY seq LIMIT $2', [after, limit, chain])
    return r.rows.map((x) => x.body)
  }

  async chains(): Promise<string[]> {
    const r = await this.pool.query<{ chain: string }>('SELECT chain FROM audit_entries GROUP BY chain UNION SELECT chain FROM audit_checkpoints GROUP BY chain ORDER BY chain')
    return r.rows.map((x) => x.chain)
  }

  async walletEntries(wallet: string, after: WalletCursor, limit: number): Promise<WalletEntryRow[]> {
    const r = await this.pool.query<WalletEntryRow>(
      `SELECT chain, seq, wallet_seq AS "walletSeq", body AS text FROM audit_entries WHERE lower(wallet) = lower($1) AND (wallet_seq, chain, seq) > ($2, $3, $4)
        ORDER BY wallet_seq, chain, seq LIMIT $5`,
      [wallet, after.walletSeq, after.chain, after.seq, limit],
    )
    return r.rows
  }

  async queryEntries(q: AuditQuery): Promise<string[]> {
    const args: unknown[] = [q.afterSeq ?? -1]
    const where: string[] = ['seq > $1']
    const add = (sql: (n: string) => string, v: unknown) => {
      args.push(v)
      where.push(sql(`$${args.length}`))
    }
    if (q.chain !== undefined) add((n) => `chain = ${n}`, q.chain)
    if (q.wallet) add((n) => `lower(wallet) = lower(${n})`, q.wallet)
    if (q.agentId) add((n) => `agent_id = ${n}`, q.agentId)
    if (q.verdict) add((n) => `verdict = ${n}`, q.verdict)
    if (q.requestId) add((n) => `(body::jsonb ->> 'requestId') = ${n}`, q.requestId)
    if (q.fromTime !== undefined) add((n) => `time >= ${n}`, q.fromTime)
    if (q.toTime !== undefined) add((n) => `time < ${n}`, q.toTime)
    args.push(q.limit)
    const dir = q.newestFirst ? ' DESC' : ''
    const sql = `SELECT body FROM audit_entries WHERE ${where.join(' AND ')} ORDER BY seq${dir}, chain${dir} LIMIT $${args.length}`
    return (await this.pool.query<{ body: string }>(sql, args)).rows.map((x) => x.body)
  }

  async scanEntries(q: AuditQuery, rows: number): Promise<AuditScan> {
    // audit40: a `from` query's first page starts at its first candidate when the time index lists them in half the budget.
    const probe = async (from: number, cap: number) =>
      (await this.pool.query<TimeProbeRow>('SELECT seq, chain, lower(wallet) AS wallet FROM audit_entries WHERE time >= $1 ORDER BY time LIMIT $2', [from, cap])).rows
    return withFromJump(q, rows, probe, (q2, rows2) => this.scanRange(q2, rows2))
  }

  private async scanRange(q: AuditQuery, rows: number): Promise<AuditScan> {
    const after = q.afterSeq ?? -1
    const args: unknown[] = []
    const arg = (v: unknown) => `$${args.push(v)}`
    const match: string[] = []
    if (q.agentId) match.push(`agent_id = ${arg(q.agentId)}`)
    if (q.verdict) match.push(`verdict = ${arg(q.verdict)}`)
    if (q.requestId) match.push(`(body::jsonb ->> 'requestId') = ${arg(q.requestId)}`)
    if (q.fromTime !== undefined) match.push(`time >= ${arg(q.fromTime)}`)
    if (q.toTime !== undefined) match.push(`time < ${arg(q.toTime)}`)
    // audit40: a wallet's read limited to one chain reads the wallet's rows of every chain under its LIMIT (SqliteStore).
    if (q.wallet && q.chain !== undefined) match.push(`chain = ${arg(q.chain)}`)
    const only = !q.wallet && q.wallets ? ', lower(wallet) AS wallet' : ''
    const select = `SELECT seq, chain, CASE WHEN ${match.length ? match.join(' AND ') : 'true'} THEN body END AS body${only} FROM audit_entries`
    const page = { after, rows, limit: q.limit }
    if (q.wallet) {
      if (q.newestFirst) {
        // audit40: the agent's own payments, newest first, from the cursor down (audit_wallet, backwards).
        const before = q.beforeSeq ?? Number.MAX_SAFE_INTEGER
        const sql = `${select} WHERE lower(wallet) = lower(${arg(q.wallet)}) AND seq < ${arg(before)} ORDER BY seq DESC, chain DESC LIMIT ${arg(rows)}`
        return auditScanPageDown((await this.pool.query<{ seq: string; body: string | null; chain: string }>(sql, args)).rows, { before, rows, limit: q.limit })
      }
      const sql = `${select} WHERE lower(wallet) = lower(${arg(q.wallet)}) AND seq > ${arg(after)} ORDER BY seq, chain LIMIT ${arg(rows)}`
      const read = (await this.pool.query<{ seq: string; body: string | null; chain: string }>(sql, args)).rows
      return auditScanPage(read, { ...page, windowEnd: null, morePast: async () => true })
    }
    // The distinct chains by the (chain, seq) index, one seek each (GROUP BY reads the whole index).
    const chains =
      q.chain === undefined
        ? (
            await this.pool.query<{ chain: string }>(
              'WITH RECURSIVE c(chain) AS (SELECT MIN(chain) FROM audit_entries UNION ALL SELECT (SELECT MIN(chain) FROM audit_entries WHERE chain > c.chain) FROM c WHERE c.chain IS NOT NULL) SELECT chain FROM c WHERE chain IS NOT NULL',
            )
          ).rows.map((r) => r.chain)
        : [q.chain]
    const end = windowEnd(after, rows, chains.length)
    if (chains.length === 0) return { texts: [], chains: [], scanned: 0, through: end, more: false }
    const sql = `${select} WHERE chain = ANY(${arg(chains)}) AND seq > ${arg(after)} AND seq <= ${arg(end)} ORDER BY seq, chain`
    const window = (await this.pool.query<{ seq: string; body: string | null; wallet: string | null; chain: string }>(sql, args)).rows
    const read = q.wallets ? onlyWallets(window, new Set(q.wallets)) : window
    const morePast = async () => (await this.pool.query('SELECT 1 FROM audit_entries WHERE chain = ANY($1) AND seq > $2 LIMIT 1', [chains, end])).rows.length > 0
    return auditScanPage(read, { ...page, windowEnd: end, morePast })
  }

  async checkpoints(afterSeq: number, limit: number, chain = ''): Promise<StoredCheckpoint[]> {
    return (await this.pool.query<StoredCheckpoint>('SELECT seq, head, time, signature FROM audit_checkpoints WHERE chain = $3 AND seq > $1 ORDER BY seq LIMIT $2', [afterSeq, limit, chain])).rows
  }

  async checkpointsAt(seqs: number[], chain = ''): Promise<StoredCheckpoint[]> {
    if (seqs.length === 0) return []
    return (await this.pool.query<StoredCheckpoint>('SELECT seq, head, time, signature FROM audit_checkpoints WHERE chain = $1 AND seq = ANY($2::bigint[]) ORDER BY seq', [chain, seqs])).rows
  }

  async latestCheckpoint(chain = ''): Promise<StoredCheckpoint | null> {
    return (await this.pool.query<StoredCheckpoint>('SELECT seq, head, time, signature FROM audit_checkpoints WHERE chain = $1 ORDER BY seq DESC LIMIT 1', [chain])).rows[0] ?? null
  }

  async close(): Promise<void> {
    await this.tail.catch(() => {})
    if (this.marks.size > 0) this.marksWrite ??= this.writeMarks()
    await this.marksWrite?.catch(() => {}) // rt38: marks of the last turn are written, not lost to pool.end()
    await this.pool.end()
  }
}
