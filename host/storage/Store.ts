import type { Persist } from '../../shared/protocol/messages.js'

/**
 * The newest core blob (`blob`, `version`) and each wallet's newest blob (issue 15): what loadState takes. A wallet's
 * `auditSeq` is its row's (the core's it was stored with: at or before the blob's seal): loadWallet's tail starts after it.
 */
export type StoredSnapshot = { version: number; auditSeq: number; blob: Uint8Array; wallets: Array<{ wallet: string; version: number; auditSeq: number; blob: Uint8Array }> }

/** Rows (wallet '' = the core blob), each wallet's newest, to a StoredSnapshot (null without a core blob). */
export function newestSet(rows: Array<{ wallet: string; version: number; auditSeq: number; blob: Uint8Array }>): StoredSnapshot | null {
  const core = rows.find((r) => r.wallet === '')
  if (!core) return null
  const wallets = rows.filter((r) => r.wallet !== '').map((r) => ({ wallet: r.wallet, version: r.version, auditSeq: Number(r.auditSeq), blob: new Uint8Array(r.blob) }))
  return { version: core.version, auditSeq: core.auditSeq, blob: new Uint8Array(core.blob), wallets }
}
export type AuditQuery = {
  wallet?: string | undefined
  agentId?: string | undefined
  verdict?: string | undefined
  fromTime?: number | undefined
  toTime?: number | undefined
  afterSeq?: number | undefined
  /** Entries of one agent request (its nonce, the entry's requestId). */
  requestId?: string | undefined
  /** Newest first (default: ascending seq). */
  newestFirst?: boolean | undefined
  limit: number
}
export type StoredCheckpoint = { seq: number; head: string; time: number; signature: string }
/**
 * The answer the host released for one decided agent request, keyed by (agent, request nonce): a resend of the
 * same signed bytes (`requestHash`) gets this answer again. Written in the same transaction as the persist block
 * that audited the decision, so an answer released is an answer stored.
 */
export type AgentAnswer = {
  agentId: string
  nonce: string
  /** sha256 of the signed request text and its signature, hex lower-cased (`requestHash`: what a resend must repeat). */
  requestHash: string
  status: number
  /** The JSON body the host answered with. */
  body: string
  auditSeq: number | null
  decidedAt: number
}
export type StoredAgentAnswer = AgentAnswer & { fetchedAt: number | null; fetchCount: number }

/** What the host keeps for the enclave. Implementations: SQLite (default), PostgreSQL. */
export interface Store {
  readonly kind: 'sqlite' | 'postgres'
  /**
   * Stores a response's entries, checkpoint and snapshot atomically (write new, then switch). Idempotent: an entry
   * or snapshot already stored is skipped; a different entry hash at a stored seq is a fork and throws (nothing stored).
   */
  persist(p: Persist): Promise<void>
  /**
   * Several responses' persist blocks in one transaction, in order (group commit), with the agent answers they
   * decided. Resolves to the highest entry seq in the blocks (-1 if none), read while storing them.
   */
  persistMany(ps: Persist[], answers?: AgentAnswer[]): Promise<number>
  /** The stored answer for (agent, nonce), if that request was decided. */
  agentAnswer(agentId: string, nonce: string): Promise<StoredAgentAnswer | null>
  /** Records that answers were written out to their agents in full (the first time and the count), in one transaction. */
  markAnswersFetched(keys: { agentId: string; nonce: string }[], at: number): Promise<void>
  latestSnapshot(): Promise<StoredSnapshot | null>
  /**
   * The highest seq such that every entry from `from` + 1 up to it is stored (`from` is a seq known stored, or -1):
   * what the host tells a ready enclave it has (catchUp), so the enclave re-sends the rest.
   */
  storedThrough(from: number): Promise<number>
  /** Entry texts with seq > after, ascending. */
  entriesAfter(after: number, limit: number): Promise<string[]>
  queryEntries(q: AuditQuery): Promise<string[]>
  checkpoints(afterSeq: number, limit: number): Promise<StoredCheckpoint[]>
  latestCheckpoint(): Promise<StoredCheckpoint | null>
  close(): Promise<void>
}
