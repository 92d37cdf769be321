import { mkdirSync } from 'node:fs'
import path from 'node:path'
import Database from 'better-sqlite3'
import type { Persist } from '../../shared/protocol/messages.js'
import type { AgentAnswer, AuditQuery, Store, StoredAgentAnswer, StoredCheckpoint, StoredSnapshot, WalletCursor, WalletEntryRow } from './Store.js'
import { AuditForkError, StoreDamagedError, StoreTooNewError } from './storeErrors.js'
import { type CheckpointRow, compactAnswerBody, cutCheckpoint, expandAnswerBody, hashedLength, pasteCheckpoint } from './answerBody.js'
import { type AuditScan, auditScanPage, auditScanPageDown, onlyWallets, type TimeProbeRow, windowEnd, withFromJump } from './auditScan.js'
import { parsedEntry } from './parsedEntry.js'
import { newestSet } from './Store.js'
import { startWalCheckpointer, type WalCheckpointer } from './walCheckpointer.js'

export const MIGRATIONS: string[] = [
  `CREATE TABLE snapshots(version INTEGER PRIMARY KEY, audit_seq INTEGER NOT NULL, blob BLOB NOT NULL, stored_at INTEGER NOT NULL);
   CREATE TABLE audit_entries(seq INTEGER PRIMARY KEY, hash TEXT NOT NULL, time INTEGER NOT NULL, event TEXT NOT NULL,
     wallet TEXT, agent_id TEXT, verdict TEXT NOT NULL, body TEXT NOT NULL);
   CREATE INDEX audit_wallet ON audit_entries(wallet, seq);
   CREATE INDEX audit_agent ON audit_entries(agent_id, seq);
   CREATE INDEX audit_time ON audit_entries(time);
   CREATE TABLE audit_checkpoints(seq INTEGER PRIMARY KEY, head TEXT NOT NULL, time INTEGER NOT NULL, signature TEXT NOT NULL);
   CREATE TABLE audit_conflicts(seq INTEGER NOT NULL, hash TEXT NOT NULL, body TEXT NOT NULL, stored_at INTEGER NOT NULL);`,
  // Exactly-once answers to agent requests (issue 23): one row per decided (agent, nonce), first answer wins.
  `CREATE TABLE agent_answers(agent_id TEXT NOT NULL, nonce TEXT NOT NULL, request_hash TEXT NOT NULL, status INTEGER NOT NULL,
     body TEXT NOT NULL, audit_seq INTEGER, decided_at INTEGER NOT NULL, fetched_at INTEGER, fetch_count INTEGER NOT NULL DEFAULT 0,
     PRIMARY KEY(agent_id, nonce));`,
  // Issue 15: snapshots keyed by (wallet, version): the core blob is wallet '', each wallet's blob its address.
  `CREATE TABLE snapshots_w(wallet TEXT NOT NULL, version INTEGER NOT NULL, audit_seq INTEGER NOT NULL, blob BLOB NOT NULL, stored_at INTEGER NOT NULL,
     PRIMARY KEY(wallet, version));
   INSERT INTO snapshots_w SELECT '', version, audit_seq, blob, stored_at FROM snapshots;
   DROP TABLE snapshots;
   ALTER TABLE snapshots_w RENAME TO snapshots;`,
  // Issue 15 step 2: one wallet's thread (`/v1/audit/export?wallet=`, `queryEntries({ wallet })` match lower(wallet)) by index.
  `CREATE INDEX audit_wallet_lower ON audit_entries(lower(wallet), seq);`,
  // Issue 15 step 4: several chains in one store. Entries and checkpoints keyed by (chain, seq), core blobs per chain
  // (wallet rows keep the chain that stored them); existing rows are the root chain ''. wallet_seq (0: none) orders a
  // wallet's thread across chains.
  `CREATE TABLE audit_entries_c(chain TEXT NOT NULL DEFAULT '', seq INTEGER NOT NULL, hash TEXT NOT NULL, time INTEGER NOT NULL, event TEXT NOT NULL,
     wallet TEXT, agent_id TEXT, verdict TEXT NOT NULL, body TEXT NOT NULL, wallet_seq INTEGER NOT NULL DEFAULT 0, PRIMARY KEY(chain, seq));
   INSERT INTO audit_entries_c SELECT '', seq, hash, time, event, wallet, agent_id, verdict, body, COALESCE(json_extract(body, '$.walletSeq'), 0) FROM audit_entries;
   DROP TABLE audit_entries;
   ALTER TABLE audit_entries_c RENAME TO audit_entries;
   CREATE INDEX audit_agent ON audit_entries(agent_id, seq);
   CREATE INDEX audit_time ON audit_entries(time);
   CREATE INDEX audit_wallet_lower ON audit_entries(lower(wallet), seq);
   CREATE INDEX audit_wallet_thread ON audit_entries(lower(wallet), wallet_seq, chain, seq);
   CREATE TABLE audit_checkpoints_c(chain TEXT NOT NULL DEFAULT '', seq INTEGER NOT NULL, head TEXT NOT NULL, time INTEGER NOT NULL, signature TEXT NOT NULL, PRIMARY KEY(chain, seq));
   INSERT INTO audit_checkpoints_c SELECT '', seq, head, time, signature FROM audit_checkpoints;
   DROP TABLE audit_checkpoints;
   ALTER TABLE audit_checkpoints_c RENAME TO audit_checkpoints;
   CREATE TABLE snapshots_c(chain TEXT NOT NULL DEFAULT '', wallet TEXT NOT NULL, version INTEGER NOT NULL, audit_seq INTEGER NOT NULL, blob BLOB NOT NULL, stored_at INTEGER NOT NULL,
     PRIMARY KEY(chain, wallet, version));
   INSERT INTO snapshots_c SELECT '', wallet, version, audit_seq, blob, stored_at FROM snapshots;
   DROP TABLE snapshots;
   ALTER TABLE snapshots_c RENAME TO snapshots;
   ALTER TABLE audit_conflicts ADD COLUMN chain TEXT NOT NULL DEFAULT '';`,
  // Issue 18 (lat18b): fewer pages per commit. Checkpoints clustered on (chain, seq) (WITHOUT ROWID: no second b-tree);
  // an answer row whose body ends with its own audit entry keeps only the rest, entry_chain naming the chain of that
  // entry (audit_seq), and is rebuilt from it on read (answerBody.ts); NULL: the body is whole (every older row).
  `CREATE TABLE audit_checkpoints_k(chain TEXT NOT NULL DEFAULT '', seq INTEGER NOT NULL, head TEXT NOT NULL, time INTEGER NOT NULL, signature TEXT NOT NULL,
     PRIMARY KEY(chain, seq)) WITHOUT ROWID;
   INSERT INTO audit_checkpoints_k SELECT chain, seq, head, time, signature FROM audit_checkpoints;
   DROP TABLE audit_checkpoints;
   ALTER TABLE audit_checkpoints_k RENAME TO audit_checkpoints;
   ALTER TABLE agent_answers ADD COLUMN entry_chain TEXT;`,
  // rt33b: since migration 6 the column holds a body OR a head (entry_chain set), so it is named for that. A binary of
  // migration 5 or older would serve a head to a resend as if it were the whole answer: without a column named body
  // its statements do not prepare and it refuses to open this store (answerReplayAfterDowngrade.test.ts).
  `ALTER TABLE agent_answers RENAME COLUMN body TO body_or_head;`,
  // Issue 18 (host35): a turn's checkpoint stored once. A compact head (entry_chain set) whose receipt checkpoint is its
  // entry's audit_checkpoints row keeps only where it was (checkpoint_at, answerBody.ts cutCheckpoint); the read pastes
  // the row back. Checkpoints are first-wins from here on (a replaced row would change a stored answer's bytes). NULL:
  // the head keeps its checkpoint (every older row). A bursar of migration 7 refuses this store (StoreTooNewError).
  // audit_agent goes: at c = 64 (64 agents) it dirtied a leaf per payment (~0.75 WAL frames); the one query it served,
  // the operator's agent filter without a wallet, scans like its verdict and request filters (owner and agent reads
  // go by wallet: audit_wallet_lower). docs/operations.md "Storage schema" lists the plans.
  `ALTER TABLE agent_answers ADD COLUMN checkpoint_at INTEGER;
   DROP INDEX audit_agent;`,
  // Issue 18 (host38): checkpoints in a rowid table whose rowid is their key: ckey = chain number × 2^40 + seq (chain_ids
  // numbers the chains, the root chain '' is 0), so one b-tree, appended. Every payment has its checkpoint (~600 B with its
  // turn path); migration 6's WITHOUT ROWID b-tree balanced each full right-edge leaf with its siblings (three pages
  // rewritten), a rowid table's is appended; a (chain, seq) index beside a plain rowid table would be a second b-tree
  // (+1 frame per c = 1 commit). docs/bench.md "checkpoints keyed by their rowid".
  `CREATE TABLE chain_ids(chain TEXT PRIMARY KEY, id INTEGER NOT NULL UNIQUE);
   INSERT INTO chain_ids(chain, id) VALUES ('', 0);
   INSERT INTO chain_ids(chain, id) SELECT chain, ROW_NUMBER() OVER (ORDER BY chain) FROM (SELECT DISTINCT chain FROM audit_checkpoints WHERE chain <> '');
   CREATE TABLE audit_checkpoints_r(ckey INTEGER PRIMARY KEY, chain TEXT NOT NULL, seq INTEGER NOT NULL CHECK (seq >= 0 AND seq < 1099511627776),
     head TEXT NOT NULL, time INTEGER NOT NULL, signature TEXT NOT NULL);
   INSERT INTO audit_checkpoints_r SELECT k.id * 1099511627776 + c.seq, c.chain, c.seq, c.head, c.time, c.signature FROM audit_checkpoints c JOIN chain_ids k ON k.chain = c.chain ORDER BY 1;
   DROP TABLE audit_checkpoints;
   ALTER TABLE audit_checkpoints_r RENAME TO audit_checkpoints;`,
]
const KEEP_SNAPSHOTS = 5
/** Migration 9: a checkpoint's rowid is its chain's number (chain_ids) × CHAIN_SPAN + its seq (0 ≤ seq < CHAIN_SPAN). */
const CHAIN_SPAN = 2 ** 40
/**
 * rt38b: keys are BigInts (bound as SQLite INTEGERs): from chain number 8,192 on, number × 2^40 + seq is past 2^53 and a
 * double rounds it (two seqs, one key: a checkpoint lost, another's returned). The last number whose span fits int64.
 */
const MAX_CHAIN_NUMBER = 2 ** 23 - 2
const ckey = (id: number, seq: number): bigint => BigInt(id) * BigInt(CHAIN_SPAN) + BigInt(seq)
/** Background WAL checkpoint interval; SQLite's own automatic checkpoint (frames) if the worker cannot run. */
const CHECKPOINT_EVERY_MS = 200
/** Fewer than this many frames appended between two passes: the next comes 5x later. */
const CHECKPOINT_MIN_FRAMES = 1_000
const SQLITE_AUTOCHECKPOINT = 1_000
/** With the worker: the writer's own (rare, short) checkpoint at this many WAL frames (~80 MB) bounds the file. */
const WRITER_AUTOCHECKPOINT = 20_000
/**
 * tail42 (issue 18): past this many WAL frames the writer checkpoints right after a worker pass, not at a commit.
 * Under steady commits a pass never ends with every frame copied (frames arrive during its fsyncs), so the WAL was
 * restarted only by the writer's own automatic checkpoint at WRITER_AUTOCHECKPOINT, on the host's only thread, with
 * up to ~200 ms of frames and every page the worker had copied since its last full pass still to sync: WAL fsync,
 * database fsync, then the new header's fsync, 35-45 ms in all on the bench VM (every ~5 s at 485/s, the open loop's
 * worst requests). Past this bound the worker syncs the database and runs a second short pass before it reports
 * (walCheckpointer.ts), so the same three syncs have little left to write. The same SQLite calls in the same order,
 * only earlier, and one more database fsync on the worker: what a power loss can lose is unchanged. Below
 * WRITER_AUTOCHECKPOINT less one slow pass's frames (≤ 5,000 per second at 5 × CHECKPOINT_EVERY_MS), so it comes first.
 */
const RESTART_AFTER_FRAMES = 12_000
/** Fetch marks wait at most this long for a persist transaction to ride in. */
const MARKS_IDLE_MS = 1_000
type FetchMarks = Array<{ keys: { agentId: string; nonce: string }[]; at: number }>

/** Embedded default storage: one SQLite file (WAL) under the data directory. */
export class SqliteStore implements Store {
  readonly kind = 'sqlite'
  private readonly db: Database.Database
  private readonly stmts

  private readonly checkpointer: WalCheckpointer | null

  /** `backgroundCheckpoint`: WAL checkpoints on a worker thread (walCheckpointer.ts), not in the writer's commits. */
  constructor(file: string, opts: { backgroundCheckpoint?: boolean; restartAfterFrames?: number } = {}) {
    mkdirSync(path.dirname(file), { recursive: true })
    this.db = new Database(file)
    this.db.pragma('journal_mode = WAL')
    this.db.pragma('synchronous = NORMAL')
    this.migrate()
    if (opts.backgroundCheckpoint ?? true) {
      this.db.pragma(`wal_autocheckpoint = ${WRITER_AUTOCHECKPOINT}`)
      const restartAfter = opts.restartAfterFrames ?? RESTART_AFTER_FRAMES
      this.checkpointer = startWalCheckpointer(
        file,
        CHECKPOINT_EVERY_MS,
        CHECKPOINT_MIN_FRAMES,
        () => {
          if (this.db.open) this.db.pragma(`wal_autocheckpoint = ${SQLITE_AUTOCHECKPOINT}`)
        },
        {
          restartAfter,
          run: (frames) => {
            // PASSIVE: copies what the pass left and syncs (the writer's thread writes nothing meanwhile); the next
            // commit then restarts the WAL. Busy (a pass already running) or failed: the next report tries again (and
            // the automatic checkpoint stays the bound).
            if (frames < restartAfter || !this.db.open || this.db.inTransaction) return
            try {
              this.db.pragma('wal_checkpoint(PASSIVE)')
            } catch {}
          },
        },
      )
    } else this.checkpointer = null
    const db = this.db
    this.stmts = {
      insertEntry: db.prepare(
        'INSERT INTO audit_entries(chain, seq, hash, time, event, wallet, agent_id, verdict, body, wallet_seq) VALUES (?,?,?,?,?,?,?,?,?,?) ON CONFLICT(chain, seq) DO NOTHING',
      ),
      entryHash: db.prepare('SELECT hash FROM audit_entries WHERE chain = ? AND seq = ?'),
      conflict: db.prepare('INSERT INTO audit_conflicts(chain, seq, hash, body, stored_at) VALUES (?,?,?,?,?)'),
      // First wins (migration 8): an answer's head may point at this row (checkpoint_at).
      insertCheckpoint: db.prepare('INSERT INTO audit_checkpoints(ckey, chain, seq, head, time, signature) VALUES (?,?,?,?,?,?) ON CONFLICT(ckey) DO NOTHING'),
      checkpointAt: db.prepare('SELECT seq, head, time, signature FROM audit_checkpoints WHERE ckey = ?'),
      chainId: db.prepare('SELECT id FROM chain_ids WHERE chain = ?').pluck(),
      // OR IGNORE: the chain is numbered already (UNIQUE chain).
      assignChainId: db.prepare('INSERT OR IGNORE INTO chain_ids(chain, id) SELECT ?, COALESCE(MAX(id), 0) + 1 FROM chain_ids'),
      insertSnapshot: db.prepare('INSERT INTO snapshots(chain, wallet, version, audit_seq, blob, stored_at) VALUES (?,?,?,?,?,?) ON CONFLICT(chain, wallet, version) DO NOTHING'),
      hasEntry: db.prepare('SELECT 1 FROM audit_entries WHERE chain = ? AND seq = ?').pluck(),
      runEnd: db.prepare(
        'SELECT MIN(a.seq) FROM audit_entries a WHERE a.chain = ? AND a.seq > ? AND NOT EXISTS (SELECT 1 FROM audit_entries b WHERE b.chain = a.chain AND b.seq = a.seq + 1)',
      ).pluck(),
      pruneSnapshots: db.prepare('DELETE FROM snapshots WHERE chain = ? AND wallet = ? AND version <= (SELECT MAX(version) FROM snapshots WHERE chain = ? AND wallet = ?) - ?'),
      latestCore: db.prepare("SELECT wallet, version, audit_seq AS auditSeq, blob, chain FROM snapshots WHERE chain = ? AND wallet = '' ORDER BY version DESC LIMIT 1"),
      latestWallets: db.prepare("SELECT wallet, MAX(version) AS version, audit_seq AS auditSeq, blob, chain FROM snapshots WHERE wallet <> '' GROUP BY wallet"),
      entriesAfter: db.prepare('SELECT body FROM audit_entries WHERE chain = ? AND seq > ? ORDER BY seq LIMIT ?').pluck(),
      checkpoints: db.prepare('SELECT seq, head, time, signature FROM audit_checkpoints WHERE ckey > ? AND ckey < ? ORDER BY ckey LIMIT ?'),
      // tidy41: the keys as one JSON array (a page's seqs, up to the route's limit + 1: one statement, no bound-variable cap).
      checkpointsAt: db.prepare('SELECT seq, head, time, signature FROM audit_checkpoints WHERE ckey IN (SELECT value FROM json_each(?)) ORDER BY ckey'),
      latestCheckpoint: db.prepare('SELECT seq, head, time, signature FROM audit_checkpoints WHERE ckey >= ? AND ckey < ? ORDER BY ckey DESC LIMIT 1'),
      chains: db.prepare(
        `SELECT chain FROM audit_entries GROUP BY chain UNION SELECT chain FROM chain_ids k
           WHERE EXISTS (SELECT 1 FROM audit_checkpoints WHERE ckey >= k.id * ${CHAIN_SPAN} AND ckey < (k.id + 1) * ${CHAIN_SPAN}) ORDER BY chain`,
      ).pluck(),
      walletEntries: db.prepare(
        'SELECT chain, seq, wallet_seq AS walletSeq, body AS text FROM audit_entries WHERE lower(wallet) = lower(?) AND (wallet_seq, chain, seq) > (?, ?, ?) ORDER BY wallet_seq, chain, seq LIMIT ?',
      ),
      insertAnswer: db.prepare(
        'INSERT INTO agent_answers(agent_id, nonce, request_hash, status, body_or_head, audit_seq, decided_at, entry_chain, checkpoint_at) VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING',
      ),
      entryBody: db.prepare('SELECT body FROM audit_entries WHERE chain = ? AND seq = ?').pluck(),
      answer: db.prepare(
        `SELECT a.agent_id AS agentId, a.nonce, a.request_hash AS requestHash, a.status, a.body_or_head AS body, a.audit_seq AS auditSeq, a.decided_at AS decidedAt,
           a.fetched_at AS fetchedAt, a.fetch_count AS fetchCount, a.entry_chain AS entryChain, e.body AS entryText, a.checkpoint_at AS checkpointAt,
           c.seq AS cpSeq, c.head AS cpHead, c.time AS cpTime, c.signature AS cpSignature
           FROM agent_answers a LEFT JOIN audit_entries e ON e.chain = a.entry_chain AND e.seq = a.audit_seq
           LEFT JOIN chain_ids k ON a.checkpoint_at IS NOT NULL AND k.chain = a.entry_chain
           LEFT JOIN audit_checkpoints c ON a.audit_seq >= 0 AND a.audit_seq < ${CHAIN_SPAN} AND c.ckey = k.id * ${CHAIN_SPAN} + a.audit_seq WHERE a.agent_id = ? AND a.nonce = ?`,
      ),
      // audit39: the distinct chains by the (chain, seq) index, one seek each (GROUP BY reads the whole index).
      entryChains: db.prepare(
        'WITH RECURSIVE c(chain) AS (SELECT MIN(chain) FROM audit_entries UNION ALL SELECT (SELECT MIN(chain) FROM audit_entries WHERE chain > c.chain) FROM c WHERE c.chain IS NOT NULL) SELECT chain FROM c WHERE chain IS NOT NULL',
      ).pluck(),
      fetched: db.prepare('UPDATE agent_answers SET fetched_at = COALESCE(fetched_at, ?), fetch_count = fetch_count + 1 WHERE agent_id = ? AND nonce = ?'),
    }
  }

  private migrate(): void {
    this.db.exec('CREATE TABLE IF NOT EXISTS schema_migrations(version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)')
    const done = new Set(this.db.prepare('SELECT version FROM schema_migrations').pluck().all() as number[])
    // rt33b: a store migrated by a newer bursar may keep rows this binary would misread (e.g. an answer's head as its
    // body, migration 6): refuse it rather than serve them.
    const newer = [...done].filter((v) => v > MIGRATIONS.length)
    if (newer.length > 0) {
      this.db.close()
      throw new StoreTooNewError(`The store has migration ${Math.max(...newer)}; this bursar knows ${MIGRATIONS.length}: run the bursar that migrated it (or newer)`)
    }
    MIGRATIONS.forEach((sql, i) => {
      if (done.has(i + 1)) return
      this.db.transaction(() => {
        this.db.exec(sql)
        this.db.prepare('INSERT INTO schema_migrations(version, applied_at) VALUES (?, ?)').run(i + 1, Date.now())
      })()
    })
  }

  /** Returns the highest entry seq stored (-1 if none). One wrapper, made once (better-sqlite3 prepares its BEGIN/COMMIT). */
  private readonly persistBody = (ps: Persist[], answers: AgentAnswer[], marks: FetchMarks, chain: string): number => {
    let maxSeq = -1
    for (const p of ps) maxSeq = Math.max(maxSeq, this.persistOne(p, chain))
    const insert = this.stmts.insertAnswer
    for (const a of answers) {
      const head = this.answerHead(a, chain)
      // The receipt's checkpoint is its entry's row (stored first-wins, this transaction or before): kept there only.
      const cp = head === null ? null : this.checkpointRow(a.auditSeq!, chain)
      const cut = cp === null ? null : cutCheckpoint(head!, cp)
      insert.run(a.agentId, a.nonce, a.requestHash, a.status, cut?.head ?? head ?? a.body, a.auditSeq, a.decidedAt, head === null ? null : chain, cut?.at ?? null)
    }
    this.fetchedBody(marks)
    return maxSeq
  }
  /** The answer's body without its own audit entry (answerBody.ts), or null: stored whole. */
  private answerHead(a: AgentAnswer, chain: string): string | null {
    if (a.auditSeq === null || !a.body.includes('"auditEntry":')) return null
    const text = this.insertedText.get(a.auditSeq) ?? (this.stmts.entryBody.get(chain, a.auditSeq) as string | undefined)
    if (text === undefined) return null
    // host40: the gateway's own split (body = head + the entry as hashed + `}`, built so), when its entry is the one
    // stored at auditSeq (in practice the same string: no compare of the text) and the lengths agree.
    if (a.spliced !== undefined && a.spliced.entryText === text && a.body.length === a.spliced.head.length + hashedLength(text) + 1) return a.spliced.head
    return compactAnswerBody(a.body, text)
  }
  /** The stored checkpoint at `seq` (this transaction's insert, else the row already there), or null. */
  private checkpointRow(seq: number, chain: string): CheckpointRow | null {
    const key = this.checkpointKey(chain, seq)
    return this.insertedCheckpoints.get(seq) ?? (key === null ? undefined : (this.stmts.checkpointAt.get(key) as CheckpointRow | undefined)) ?? null
  }
  /** Chain numbers (chain_ids) as committed: a number is given in its own statement, outside any persist transaction. */
  private readonly chainIds = new Map<string, number>()
  private chainNumber(chain: string, assign = false): number | null {
    const known = this.chainIds.get(chain)
    if (known !== undefined) return known
    if (assign) this.stmts.assignChainId.run(chain)
    const id = this.stmts.chainId.get(chain) as number | undefined
    if (id === undefined) return null
    this.chainIds.set(chain, id)
    return id
  }
  /** The checkpoint's rowid (migration 9), or null: no such chain, or a seq outside [0, CHAIN_SPAN) (the table's CHECK). */
  private checkpointKey(chain: string, seq: number): bigint | null {
    const id = this.chainNumber(chain)
    return id === null || id > MAX_CHAIN_NUMBER || !(Number.isSafeInteger(seq) && seq >= 0 && seq < CHAIN_SPAN) ? null : ckey(id, seq)
  }
  /** The (lo, hi) rowid bounds of a chain's checkpoints, or null (no checkpoint of that chain was ever stored). */
  private chainRange(chain: string): [bigint, bigint] | null {
    const id = this.chainNumber(chain)
    return id === null || id > MAX_CHAIN_NUMBER ? null : [ckey(id, 0), ckey(id + 1, 0)]
  }
  private persistTxn: ((ps: Persist[], answers: AgentAnswer[], marks: FetchMarks, chain: string) => number) | null = null
  private readonly persistTx = (ps: Persist[], answers: AgentAnswer[] = [], chain = ''): number => {
    // Fetch marks waiting since the last commit ride in this one (issue 18: no transaction of their own).
    const marks = this.marks
    this.marks = []
    this.inserted.length = 0
    this.insertedText.clear()
    this.insertedCheckpoints.clear()
    // A checkpoint's rowid needs its chain's number: given (and committed) before the transaction, never rolled back.
    if (ps.some((p) => p.checkpoint)) this.chainNumber(chain, true)
    try {
      const maxSeq = (this.persistTxn ??= this.db.transaction(this.persistBody))(ps, answers, marks, chain)
      // Committed: every entry of the batch is stored now (new, or the same entry again).
      const run = this.runOf(chain)
      for (const seq of this.inserted) if (seq === run.end + 1) run.end = seq
      return maxSeq
    } catch (err) {
      this.marks = marks.concat(this.marks)
      // Keep the evidence of a fork (outside the refused transaction), then refuse the batch.
      if (err instanceof AuditForkError) this.stmts.conflict.run(chain, err.seq, err.hash, err.message, Date.now())
      throw err
    }
  }

  /** Returns the highest entry seq in the block (-1 if none). */
  private persistOne(p: Persist, chain: string): number {
    let maxSeq = -1
    {
      const now = Date.now()
      for (let i = 0; i < p.entries.length; i++) {
        const [text, e] = [p.entries[i]!, parsedEntry(p, i)]
        maxSeq = Math.max(maxSeq, Number(e.seq))
        const r = this.stmts.insertEntry.run(chain, e.seq, e.hash, e.time, e.event, e.wallet ?? null, e.agentId ?? null, e.verdict, text, e.walletSeq ?? 0)
        if (r.changes === 1) this.insertedText.set(Number(e.seq), text)
        if (r.changes === 0) {
          // Same seq already stored: the same entry again is fine (a catchUp re-send); another one is a fork.
          const existing = this.stmts.entryHash.get(chain, e.seq) as { hash: string } | undefined
          if (existing && existing.hash !== e.hash) throw new AuditForkError(Number(e.seq), existing.hash, String(e.hash))
        }
        this.inserted.push(Number(e.seq))
      }
      if (p.checkpoint) {
        const c = p.checkpoint
        const key = this.checkpointKey(chain, c.seq)
        if (key === null) throw new Error(`checkpoint seq ${c.seq} of chain '${chain}' is outside [0, 2^40) (or the chain's number past ${MAX_CHAIN_NUMBER}): not stored`)
        const r = this.stmts.insertCheckpoint.run(key, chain, c.seq, c.head, c.time, c.signature)
        if (r.changes === 1) this.insertedCheckpoints.set(c.seq, c)
      }
      if (p.sealed) {
        for (const w of [{ wallet: '', version: p.sealed.version, blob: p.sealed.blob }, ...(p.sealed.wallets ?? [])]) {
          this.stmts.insertSnapshot.run(chain, w.wallet, w.version, p.sealed.auditSeq, Buffer.from(w.blob), now)
          this.stmts.pruneSnapshots.run(chain, w.wallet, chain, w.wallet, KEEP_SNAPSHOTS)
        }
      }
    }
    return maxSeq
  }

  async persist(p: Persist, chain = ''): Promise<void> {
    this.persistTx([p], [], chain)
  }

  async persistMany(ps: Persist[], answers?: AgentAnswer[], chain = ''): Promise<number> {
    return this.persistTx(ps, answers, chain)
  }

  async agentAnswer(agentId: string, nonce: string): Promise<StoredAgentAnswer | null> {
    this.flushMarks() // a read sees every mark made before it
    type Row = StoredAgentAnswer & { entryChain: string | null; entryText: string | null; checkpointAt: number | null; cpSeq: number | null; cpHead: string; cpTime: number; cpSignature: string }
    const row = this.stmts.answer.get(agentId, nonce) as Row | undefined
    if (!row) return null
    const { entryChain, entryText, checkpointAt, cpSeq, cpHead, cpTime, cpSignature, ...answer } = row
    if (entryChain === null) return answer
    // Entries and checkpoints are never deleted: a head without its entry or checkpoint is a store damaged outside bursar.
    const missing = (what: string) => new StoreDamagedError(`The stored answer to ${agentId}/${nonce} names ${what} ${answer.auditSeq} of chain '${entryChain}', which is not stored`)
    if (entryText === null) throw missing('audit entry')
    if (checkpointAt !== null && cpSeq === null) throw missing('the checkpoint at')
    const head = checkpointAt === null ? answer.body : pasteCheckpoint(answer.body, checkpointAt, { seq: cpSeq!, head: cpHead, time: cpTime, signature: cpSignature })
    return { ...answer, body: expandAnswerBody(head, entryText) }
  }

  /**
   * Fetch marks not yet written: they ride in the next persist transaction (an answer is marked only after its own
   * transaction committed), or go in their own after MARKS_IDLE_MS without one, before a read and on close. A crash
   * loses at most that long of marks (they only tell the owner whether an answer reached its agent).
   */
  private marks: FetchMarks = []
  private marksTimer: NodeJS.Timeout | null = null
  private fetchedTxn: ((marks: FetchMarks) => void) | null = null
  private readonly fetchedBody = (marks: FetchMarks): void => {
    for (const m of marks) for (const k of m.keys) this.stmts.fetched.run(m.at, k.agentId, k.nonce)
  }
  private flushMarks(): void {
    if (this.marks.length === 0) return
    const marks = this.marks
    this.marks = []
    ;(this.fetchedTxn ??= this.db.transaction(this.fetchedBody))(marks)
  }

  async markAnswersFetched(keys: { agentId: string; nonce: string }[], at: number): Promise<void> {
    if (keys.length === 0) return
    this.marks.push({ keys, at })
    this.marksTimer ??= setTimeout(() => {
      this.marksTimer = null
      try {
        this.flushMarks()
      } catch {
        // Best effort, like the marks themselves (the next persist or read tries again).
      }
    }, MARKS_IDLE_MS).unref()
  }

  /**
   * Issue 18 (lat18): every entry in (base, end] is stored — what the last storedThrough answer found, extended by
   * each committed entry that continues it. Nothing deletes entries, so this stays true (an insert by anyone else only
   * lengthens the real run, which the query finds from `end` all the same). The
   * run-end query walks every entry after its `from` (~2 ms per 1,000 entries, on the host's thread: each 2 s ack and
   * each stored snapshot's ack scanned everything stored since the last one); started at `end` it walks none.
   */
  private readonly runs = new Map<string, { base: number; end: number }>()
  private runOf(chain: string): { base: number; end: number } {
    let run = this.runs.get(chain)
    if (!run) this.runs.set(chain, (run = { base: Number.POSITIVE_INFINITY, end: Number.NEGATIVE_INFINITY }))
    return run
  }
  /** The entry seqs the current persist transaction stores (read once it has committed). */
  private readonly inserted: number[] = []
  /** Entry texts this transaction inserted, by seq: an answer's own entry is read from here, not selected back. */
  private readonly insertedText = new Map<number, string>()
  /** Checkpoints this transaction inserted, by seq (first wins: an already stored seq is read back). */
  private readonly insertedCheckpoints = new Map<number, CheckpointRow>()

  async storedThrough(from: number, chain = ''): Promise<number> {
    const run = this.runOf(chain)
    // A known complete run that covers `from`: the answer is at least its end (same query, fewer rows).
    const start = from >= run.base && from <= run.end ? run.end : from
    const end = this.stmts.hasEntry.get(chain, start + 1) ? (this.stmts.runEnd.get(chain, start) as number) : start
    if (!(from >= run.base && from <= run.end)) run.base = from
    run.end = end
    return end
  }

  async latestSnapshot(chain = ''): Promise<StoredSnapshot | null> {
    // SQLite: with MAX() the bare columns come from the row holding the maximum.
    type Row = { wallet: string; version: number; auditSeq: number; blob: Buffer; chain: string }
    return newestSet([...(this.stmts.latestCore.all(chain) as Row[]), ...(this.stmts.latestWallets.all() as Row[])])
  }

  async entriesAfter(after: number, limit: number, chain = ''): Promise<string[]> {
    return this.stmts.entriesAfter.all(chain, after, limit) as string[]
  }

  async chains(): Promise<string[]> {
    return this.stmts.chains.all() as string[]
  }

  async walletEntries(wallet: string, after: WalletCursor, limit: number): Promise<WalletEntryRow[]> {
    return this.stmts.walletEntries.all(wallet, after.walletSeq, after.chain, after.seq, limit) as WalletEntryRow[]
  }

  async queryEntries(q: AuditQuery): Promise<string[]> {
    const where: string[] = ['seq > ?']
    const args: unknown[] = [q.afterSeq ?? -1]
    if (q.chain !== undefined) where.push('chain = ?') && args.push(q.chain)
    if (q.wallet) where.push('lower(wallet) = lower(?)') && args.push(q.wallet)
    if (q.agentId) where.push('agent_id = ?') && args.push(q.agentId)
    if (q.verdict) where.push('verdict = ?') && args.push(q.verdict)
    if (q.requestId) where.push("json_extract(body, '$.requestId') = ?") && args.push(q.requestId)
    if (q.fromTime !== undefined) where.push('time >= ?') && args.push(q.fromTime)
    if (q.toTime !== undefined) where.push('time < ?') && args.push(q.toTime)
    const dir = q.newestFirst ? ' DESC' : ''
    const sql = `SELECT body FROM audit_entries WHERE ${where.join(' AND ')} ORDER BY seq${dir}, chain${dir} LIMIT ?`
    return this.db.prepare(sql).pluck().all(...args, q.limit) as string[]
  }

  async scanEntries(q: AuditQuery, rows: number): Promise<AuditScan> {
    // audit40: a `from` query's first page starts at its first candidate when the time index lists them in half the budget.
    const probe = async (from: number, cap: number) =>
      this.db.prepare('SELECT seq, chain, lower(wallet) AS wallet FROM audit_entries INDEXED BY audit_time WHERE time >= ? ORDER BY time LIMIT ?').all(from, cap) as TimeProbeRow[]
    return withFromJump(q, rows, probe, (q2, rows2) => this.scanRange(q2, rows2))
  }

  private async scanRange(q: AuditQuery, rows: number): Promise<AuditScan> {
    const after = q.afterSeq ?? -1
    const match: string[] = []
    const matchArgs: unknown[] = []
    if (q.agentId) match.push('agent_id = ?') && matchArgs.push(q.agentId)
    if (q.verdict) match.push('verdict = ?') && matchArgs.push(q.verdict)
    if (q.requestId) match.push("json_extract(body, '$.requestId') = ?") && matchArgs.push(q.requestId)
    if (q.fromTime !== undefined) match.push('time >= ?') && matchArgs.push(q.fromTime)
    if (q.toTime !== undefined) match.push('time < ?') && matchArgs.push(q.toTime)
    // audit40: a wallet's read limited to one chain (the owner's export) reads the wallet's rows of every chain under
    // its LIMIT, the chain choosing among them (in the WHERE, other chains' rows were read past the LIMIT, unbounded).
    if (q.wallet && q.chain !== undefined) match.push('chain = ?') && matchArgs.push(q.chain)
    const only = !q.wallet && q.wallets ? ', lower(wallet) AS wallet' : ''
    const select = `SELECT seq, chain, CASE WHEN ${match.length ? match.join(' AND ') : '1'} THEN body END AS body${only} FROM audit_entries`
    const page = { after, rows, limit: q.limit }
    if (q.wallet) {
      // By audit_wallet_lower (never the (chain, seq) index, which would read other wallets' entries).
      type Row = { seq: number; body: string | null; chain: string }
      if (q.newestFirst) {
        // audit40: the agent's own payments, newest first, from the cursor down (the same index, backwards).
        const before = q.beforeSeq ?? Number.MAX_SAFE_INTEGER
        const sql = `${select} WHERE lower(wallet) = lower(?) AND seq < ? ORDER BY seq DESC, chain DESC LIMIT ?`
        return auditScanPageDown(this.db.prepare(sql).iterate(...matchArgs, q.wallet, before, rows) as Iterable<Row>, { before, rows, limit: q.limit })
      }
      const sql = `${select} WHERE lower(wallet) = lower(?) AND seq > ? ORDER BY seq, chain LIMIT ?`
      const read = this.db.prepare(sql).iterate(...matchArgs, q.wallet, after, rows) as Iterable<Row>
      return auditScanPage(read, { ...page, windowEnd: null, morePast: async () => true })
    }
    const chains = q.chain === undefined ? (this.stmts.entryChains.all() as string[]) : [q.chain]
    const end = windowEnd(after, rows, chains.length)
    if (chains.length === 0) return { texts: [], chains: [], scanned: 0, through: end, more: false }
    const inChains = `chain IN (${chains.map(() => '?').join(',')})`
    const window = this.db.prepare(`${select} WHERE ${inChains} AND seq > ? AND seq <= ? ORDER BY seq, chain`).iterate(...matchArgs, ...chains, after, end)
    const read = q.wallets ? onlyWallets(window as Iterable<{ seq: number; body: string | null; wallet: string | null; chain: string }>, new Set(q.wallets)) : (window as Iterable<{ seq: number; body: string | null; chain: string }>)
    const morePast = async () => this.db.prepare(`SELECT 1 FROM audit_entries WHERE ${inChains} AND seq > ? LIMIT 1`).pluck().get(...chains, end) !== undefined
    return auditScanPage(read, { ...page, windowEnd: end, morePast })
  }

  async checkpoints(afterSeq: number, limit: number, chain = ''): Promise<StoredCheckpoint[]> {
    const range = this.chainRange(chain)
    if (range === null || Number.isNaN(afterSeq)) return []
    return this.stmts.checkpoints.all(range[0] + BigInt(Math.min(Math.max(Math.floor(afterSeq), -1), CHAIN_SPAN)), range[1], limit) as StoredCheckpoint[]
  }

  async checkpointsAt(seqs: number[], chain = ''): Promise<StoredCheckpoint[]> {
    const keys = seqs.map((s) => this.checkpointKey(chain, s)).filter((k) => k !== null)
    return keys.length === 0 ? [] : (this.stmts.checkpointsAt.all(`[${keys.join(',')}]`) as StoredCheckpoint[])
  }

  async latestCheckpoint(chain = ''): Promise<StoredCheckpoint | null> {
    const range = this.chainRange(chain)
    return range === null ? null : ((this.stmts.latestCheckpoint.get(range[0], range[1]) as StoredCheckpoint | undefined) ?? null)
  }

  async close(): Promise<void> {
    if (this.marksTimer) clearTimeout(this.marksTimer)
    try {
      this.flushMarks()
    } catch {
      // A store closing on an error keeps what it has.
    }
    await this.checkpointer?.stop() // first: the writer's connection, closing last, checkpoints and removes the WAL
    this.db.close()
    this.checkpointer?.closeFile()
  }
}

export { AuditForkError } from './storeErrors.js'
