import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { PostgresStore } from '../../host/storage/PostgresStore.js'
import { SqliteStore } from '../../host/storage/SqliteStore.js'
import type { Store } from '../../host/storage/Store.js'
import type { ChainLog } from './multiChainAuditLog.js'
import { freshDatabase } from './postgres.js'

/**
 * chains41: a real store (SQLite or PostgreSQL) holding the chains of multiChainAuditLog as the host persists the
 * enclave's batches: each entry with its recorded hash, the checkpoint at its seq (signed over its chain), per chain.
 */
export async function multiChainAuditStore(kind: 'sqlite' | 'postgres', logs: readonly ChainLog[]): Promise<Store> {
  const store: Store =
    kind === 'sqlite' ? new SqliteStore(path.join(mkdtempSync(path.join(tmpdir(), 'bursar-chains41-')), 'b.db'), { backgroundCheckpoint: false }) : await PostgresStore.open(await freshDatabase())
  for (const log of logs)
    for (const [i, entry] of log.entries.entries()) {
      const { seq, head, time, signature } = log.checkpoints[i]!
      await store.persist({ entries: [JSON.stringify({ ...entry, hash: log.hashes[i] })], checkpoint: { seq, head, time, signature }, sealed: null }, log.chain)
    }
  return store
}
