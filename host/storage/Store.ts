import type { Persist } from '../../shared/protocol/messages.js'

export type StoredSnapshot = { version: number; auditSeq: number; blob: Uint8Array }
export type AuditQuery = {
  wallet?: string | undefined
  agentId?: string | undefined
  verdict?: string | undefined
  fromTime?: number | undefined
  toTime?: number | undefined
  afterSeq?: number | undefined
  /** Newest first (default: ascending seq). */
  newestFirst?: boolean | undefined
  limit: number
}
export type StoredCheckpoint = { seq: number; head: string; time: number; signature: string }

/** What the host keeps for the enclave. Implementations: SQLite (default), PostgreSQL. */
export interface Store {
  readonly kind: 'sqlite' | 'postgres'
  /** Stores a response's entries, checkpoint and snapshot atomically (write new, then switch). */
  persist(p: Persist): Promise<void>
  /** Several responses' persist blocks in one transaction, in order (group commit). */
  persistMany(ps: Persist[]): Promise<void>
  latestSnapshot(): Promise<StoredSnapshot | null>
  /** Entry texts with seq > after, ascending. */
  entriesAfter(after: number, limit: number): Promise<string[]>
  queryEntries(q: AuditQuery): Promise<string[]>
  checkpoints(afterSeq: number, limit: number): Promise<StoredCheckpoint[]>
  latestCheckpoint(): Promise<StoredCheckpoint | null>
  close(): Promise<void>
}
