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
import type { AgentAnswer, AuditQuery, Store, StoredAgentAnswer, StoredCheckpoint, StoredSnapshot } from './Store.js'
import { AuditForkError, LeaseLostError } from './storeErrors.js'

const MIGRATIONS: string[] = [
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
]
const KEEP_SNAPSHOTS = 5
/** An arbitrary constant: the advisory lock that serializes migrations of hosts starting at once. */
const MIGRATION_LOCK = 0x62757273

/** int8 as a JS number (seqs, times and versions stay far below 2^53). */
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === 20 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
}

export type Lease = { group: string; holder: string; url: string; epoch: number; expiresInMs: number }

export class PostgresStore implements Store {
  readonly kind = 'postgres'
  /** Set by the host once it holds a lease: every persist then checks it inside its transaction. */
  private fence: { group: string; epoch: number } | null = null
  private tail: Promise<unknown> = Promise.resolve()

  private constructor(readonly pool: pg.Pool) {}

  static async open(url: string, opts: { max?: number } = {}): Promise<PostgresStore> {
    const pool = new pg.Pool({ connectionString: url, max: opts.max ?? 8, types })
    pool.on('error', () => {}) // an idle client's broken connection: the next query reconnects
    const store = new PostgresStore(pool)
    await store.migrate()
    return store
  }

  private async migrate(): Promise<void> {
    const c = await this.pool.connect()
    try {
      await c.query('BEGIN')
      await c.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK])
      await c.query('CREATE TABLE IF NOT EXISTS schema_migrations(version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)')
      const done = new Set((await c.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map((r) => r.version))
      for (const [i, sql] of MIGRATIONS.entries()) {
        if (done.has(i + 1)) continue
        await c.query(sql)
        await c.query('INSERT INTO schema_migrations(version, applied_at) VALUES ($1, $2)', [i + 1, Date.now()])
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

  async persist(p: Persist): Promise<void> {
    await this.persistMany([p])
  }

  persistMany(ps: Persist[], answers: AgentAnswer[] = []): Promise<number> {
    return this.serial(() => this.persistTx(ps, answers))
  }

  private async persistTx(ps: Persist[], answers: AgentAnswer[]): Promise<number> {
    const fence = this.fence
    const seqs: number[] = []
    const hashes: string[] = []
    const times: number[] = []
    const events: string[] = []
    const wallets: (string | null)[] = []
    const agents: (string | null)[] = []
    const verdicts: string[] = []
    const bodies: string[] = []
    let maxSeq = -1
    for (const p of ps) {
      for (const text of p.entries) {
        const e = JSON.parse(text) as Record<string, unknown>
        const seq = Number(e.seq)
        maxSeq = Math.max(maxSeq, seq)
        seqs.push(seq)
        hashes.push(String(e.hash))
        times.push(Number(e.time))
        events.push(String(e.event))
        wallets.push((e.wallet as string | null | undefined) ?? null)
        agents.push((e.agentId as string | null | undefined) ?? null)
        verdicts.push(String(e.verdict))
        bodies.push(text)
      }
    }
    const c = await this.pool.connect()
    let fork: AuditForkError | null = null
    try {
      await c.query('BEGIN')
      if (fence) {
        const ok = await c.query('SELECT 1 FROM leases WHERE grp = $1 AND epoch = $2 AND expires_at > clock_timestamp() FOR SHARE', [fence.group, fence.epoch])
        if (ok.rowCount === 0) throw new LeaseLostError(fence.group, fence.epoch)
      }
      if (seqs.length > 0) {
        await c.query(
          `INSERT INTO audit_entries(seq, hash, time, event, wallet, agent_id, verdict, body, epoch)
             SELECT s, h, t, ev, w, a, v, b, $9 FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])
               AS x(s, h, t, ev, w, a, v, b)
           ON CONFLICT (seq) DO NOTHING`,
          [seqs, hashes, times, events, wallets, agents, verdicts, bodies, fence?.epoch ?? null],
        )
        // Same seq already stored: the same entry again is fine (a catchUp re-send); another one is a fork.
        const f = await c.query<{ seq: number; stored: string; offered: string; body: string }>(
          `SELECT a.seq, a.hash AS stored, x.h AS offered, x.b AS body FROM unnest($1::bigint[], $2::text[], $3::text[]) AS x(s, h, b)
             JOIN audit_entries a ON a.seq = x.s WHERE a.hash <> x.h LIMIT 1`,
          [seqs, hashes, bodies],
        )
        const row = f.rows[0]
        if (row) fork = new AuditForkError(row.seq, row.stored, row.offered)
      }
      if (fork) throw fork
      const now = Date.now()
      for (const p of ps) {
        if (p.checkpoint) {
          const k = p.checkpoint
          await c.query(
            `INSERT INTO audit_checkpoints(seq, head, time, signature) VALUES ($1, $2, $3, $4)
             ON CONFLICT (seq) DO UPDATE SET head = EXCLUDED.head, time = EXCLUDED.time, signature = EXCLUDED.signature`,
            [k.seq, k.head, k.time, k.signature],
          )
        }
        if (p.sealed) {
          await c.query('INSERT INTO snapshots(version, audit_seq, blob, stored_at) VALUES ($1, $2, $3, $4) ON CONFLICT (version) DO NOTHING', [
            p.sealed.version,
            p.sealed.auditSeq,
            Buffer.from(p.sealed.blob),
            now,
          ])
          await c.query('DELETE FROM snapshots WHERE version <= (SELECT MAX(version) FROM snapshots) - $1', [KEEP_SNAPSHOTS])
        }
      }
      if (answers.length > 0) {
        await c.query(
          `INSERT INTO agent_answers(agent_id, nonce, request_hash, status, body, audit_seq, decided_at)
             SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::text[], $6::bigint[], $7::bigint[])
           ON CONFLICT DO NOTHING`,
          [
            answers.map((a) => a.agentId),
            answers.map((a) => a.nonce),
            answers.map((a) => a.requestHash),
            answers.map((a) => a.status),
            answers.map((a) => a.body),
            answers.map((a) => a.auditSeq),
            answers.map((a) => a.decidedAt),
          ],
        )
      }
      await c.query('COMMIT')
      return maxSeq
    } catch (err) {
      await c.query('ROLLBACK').catch(() => {})
      // Keep the evidence of a fork (outside the refused transaction), then refuse the batch.
      if (err instanceof AuditForkError) {
        const body = bodies[seqs.indexOf(err.seq)] ?? err.message
        await c.query('INSERT INTO audit_conflicts(seq, hash, body, stored_at) VALUES ($1, $2, $3, $4)', [err.seq, err.hash, body, Date.now()]).catch(() => {})
      }
      throw err
    } finally {
      c.release()
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

  async markAnswersFetched(keys: { agentId: string; nonce: string }[], at: number): Promise<void> {
    if (keys.length === 0) return
    await this.pool.query(
      `UPDATE agent_answers a SET fetched_at = COALESCE(a.fetched_at, $3), fetch_count = a.fetch_count + k.n
         FROM (SELECT agent_id, nonce, count(*)::int AS n FROM unnest($1::text[], $2::text[]) AS x(agent_id, nonce) GROUP BY 1, 2) k
        WHERE a.agent_id = k.agent_id AND a.nonce = k.nonce`,
      [keys.map((k) => k.agentId), keys.map((k) => k.nonce), at],
    )
  }

  async storedThrough(from: number): Promise<number> {
    const has = await this.pool.query('SELECT 1 FROM audit_entries WHERE seq = $1', [from + 1])
    if (has.rowCount === 0) return from
    const r = await this.pool.query<{ end: number }>(
      `SELECT MIN(a.seq) AS end FROM audit_entries a WHERE a.seq > $1 AND NOT EXISTS (SELECT 1 FROM audit_entries b WHERE b.seq = a.seq + 1)`,
      [from],
    )
    return r.rows[0]!.end
  }

  async latestSnapshot(): Promise<StoredSnapshot | null> {
    const r = await this.pool.query<{ version: number; auditSeq: number; blob: Buffer }>(
      'SELECT version, audit_seq AS "auditSeq", blob FROM snapshots ORDER BY version DESC LIMIT 1',
    )
    const row = r.rows[0]
    return row ? { version: row.version, auditSeq: row.auditSeq, blob: new Uint8Array(row.blob) } : null
  }

  async entriesAfter(after: number, limit: number): Promise<string[]> {
    const r = await this.pool.query<{ body: string }>('SELECT body FROM audit_entries WHERE seq > $1 ORDER BY seq LIMIT $2', [after, limit])
    return r.rows.map((x) => x.body)
  }

  async queryEntries(q: AuditQuery): Promise<string[]> {
    const args: unknown[] = [q.afterSeq ?? -1]
    const where: string[] = ['seq > $1']
    const add = (sql: (n: string) => string, v: unknown) => {
      args.push(v)
      where.push(sql(`$${args.length}`))
    }
    if (q.wallet) add((n) => `lower(wallet) = lower(${n})`, q.wallet)
    if (q.agentId) add((n) => `agent_id = ${n}`, q.agentId)
    if (q.verdict) add((n) => `verdict = ${n}`, q.verdict)
    if (q.requestId) add((n) => `(body::jsonb ->> 'requestId') = ${n}`, q.requestId)
    if (q.fromTime !== undefined) add((n) => `time >= ${n}`, q.fromTime)
    if (q.toTime !== undefined) add((n) => `time < ${n}`, q.toTime)
    args.push(q.limit)
    const sql = `SELECT body FROM audit_entries WHERE ${where.join(' AND ')} ORDER BY seq${q.newestFirst ? ' DESC' : ''} LIMIT $${args.length}`
    return (await this.pool.query<{ body: string }>(sql, args)).rows.map((x) => x.body)
  }

  async checkpoints(afterSeq: number, limit: number): Promise<StoredCheckpoint[]> {
    return (await this.pool.query<StoredCheckpoint>('SELECT seq, head, time, signature FROM audit_checkpoints WHERE seq > $1 ORDER BY seq LIMIT $2', [afterSeq, limit])).rows
  }

  async latestCheckpoint(): Promise<StoredCheckpoint | null> {
    return (await this.pool.query<StoredCheckpoint>('SELECT seq, head, time, signature FROM audit_checkpoints ORDER BY seq DESC LIMIT 1')).rows[0] ?? null
  }

  async close(): Promise<void> {
    await this.tail.catch(() => {})
    await this.pool.end()
  }
}
