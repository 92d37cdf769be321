import type { AuditScan } from './auditScan.js'
import type { Persist } from '../../shared/protocol/messages.js'

/**
 * The newest core blob (`blob`, `version`) and each wallet's newest blob (issue 15): what loadState takes. A wallet's
 * `auditSeq` is its row's (the core's it was stored with: at or before the blob's seal): loadWallet's tail starts after it.
 */
/** A wallet's `chain` (issue 15 step 4): the chain whose enclave stored that blob (its `auditSeq` is in that chain). */
export type StoredSnapshot = { version: number; auditSeq: number; blob: Uint8Array; wallets: Array<{ wallet: string; version: number; auditSeq: number; blob: Uint8Array; chain: string }> }

/** Rows (wallet '' = the core blob), each wallet's newest, to a StoredSnapshot (null without a core blob). */
export function newestSet(rows: Array<{ wallet: string; version: number; auditSeq: number; blob: Uint8Array; chain?: string }>): StoredSnapshot | null {
  const core = rows.find((r) => r.wallet === '')
  if (!core) return null
  const wallets = rows.filter((r) => r.wallet !== '').map((r) => ({ wallet: r.wallet, version: r.version, auditSeq: Number(r.auditSeq), blob: new Uint8Array(r.blob), chain: r.chain ?? '' }))
  return { version: core.version, auditSeq: core.auditSeq, blob: new Uint8Array(core.blob), wallets }
}

/** One stored entry of a wallet's thread (walletEntries): its chain, seq and walletSeq (0: no thread fields) and text. */
export type WalletEntryRow = { chain: string; seq: number; walletSeq: number; text: string }
/** Where a walletEntries page continues: after this (walletSeq, chain, seq). */
export type WalletCursor = { walletSeq: number; chain: string; seq: number }
export const WALLET_CURSOR_START: WalletCursor = { walletSeq: -1, chain: '', seq: -1 }
export type AuditQuery = {
  /** Issue 15 step 4: one chain's entries ('' = the root chain); absent: every chain's (ordered by seq, then chain). */
  chain?: string | undefined
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
  /** audit40, scanEntries with newestFirst (and a wallet): entries with seq < beforeSeq (absent: from the newest). */
  beforeSeq?: number | undefined
  /** audit40, scanEntries without `wallet`: only these wallets' entries (lower-case) match; the candidates stay the window. */
  wallets?: readonly string[] | undefined
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
  /**
   * host40: when the gateway built `body` as `head` + its audit entry as hashed + `}` (answerJson's splice), that head
   * and the entry's stored text: a store that keeps answers without their entry (SQLite) takes the head as it is when
   * `entryText` is the text it stores at `auditSeq`, instead of finding it again in `body`. Never stored.
   */
  spliced?: { head: string; entryText: string }
}
export type StoredAgentAnswer = AgentAnswer & { fetchedAt: number | null; fetchCount: number }

/** What the host keeps for the enclave. Implementations: SQLite (default), PostgreSQL. */
/**
 * Issue 15 step 4: audit entries, checkpoints and core blobs are kept per chain (every `chain` argument: '' = the
 * root chain, the default); each wallet's blobs are keyed by (wallet, version) whichever chain stored them.
 */
export interface Store {
  readonly kind: 'sqlite' | 'postgres'
  /**
   * Stores a response's entries, checkpoint and snapshot atomically (write new, then switch). Idempotent: an entry
   * or snapshot already stored is skipped; a different entry hash at a stored seq is a fork and throws (nothing stored).
   */
  persist(p: Persist, chain?: string): Promise<void>
  /**
   * Several responses' persist blocks in one transaction, in order (group commit), with the agent answers they
   * decided. Resolves to the highest entry seq in the blocks (-1 if none), read while storing them.
   */
  persistMany(ps: Persist[], answers?: AgentAnswer[], chain?: string): Promise<number>
  /** The stored answer for (agent, nonce), if that request was decided. */
  agentAnswer(agentId: string, nonce: string): Promise<StoredAgentAnswer | null>
  /** Records that answers were written out to their agents in full (the first time and the count), in one transaction. */
  markAnswersFetched(keys: { agentId: string; nonce: string }[], at: number): Promise<void>
  /** The chain's newest core blob and each wallet's newest blob (of any chain). */
  latestSnapshot(chain?: string): Promise<StoredSnapshot | null>
  /**
   * The highest seq such that every entry from `from` + 1 up to it is stored (`from` is a seq known stored, or -1):
   * what the host tells a ready enclave it has (catchUp), so the enclave re-sends the rest.
   */
  storedThrough(from: number, chain?: string): Promise<number>
  /** Entry texts of the chain with seq > after, ascending. */
  entriesAfter(after: number, limit: number, chain?: string): Promise<string[]>
  queryEntries(q: AuditQuery): Promise<string[]>
  /**
   * audit39: the audit route's page under a row budget (auditScan.ts): at most `rows` candidates read (a wallet's
   * entries, or every chain's in the seq window after the cursor, `rows` shared by the chains: auditScan.ts
   * windowEnd), the other filters choosing among them. `newestFirst` (audit40): with `wallet` only, from `beforeSeq` down.
   */
  scanEntries(q: AuditQuery, rows: number): Promise<AuditScan>
  checkpoints(afterSeq: number, limit: number, chain?: string): Promise<StoredCheckpoint[]>
  /** tidy41: the chain's checkpoints at exactly these seqs (those stored), ascending, in one read (was one read per seq). */
  checkpointsAt(seqs: number[], chain?: string): Promise<StoredCheckpoint[]>
  latestCheckpoint(chain?: string): Promise<StoredCheckpoint | null>
  /** Every chain with a stored entry or checkpoint: '' (root) first if any, then the others by id. */
  chains(): Promise<string[]>
  /** One wallet's entries across chains in thread order (walletSeq, then chain, seq; unthreaded ones, walletSeq 0, first), after `after`. */
  walletEntries(wallet: string, after: WalletCursor, limit: number): Promise<WalletEntryRow[]>
  close(): Promise<void>
}
