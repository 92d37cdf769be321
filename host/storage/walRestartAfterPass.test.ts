import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type Database from 'better-sqlite3'
import { afterEach, describe, expect, it } from 'vitest'
import { SqliteStore } from './SqliteStore.js'

/**
 * tail42 (issue 18): past `restartAfterFrames` the writer's connection checkpoints right after a worker pass (the WAL
 * nearly all copied and synced), so its WAL restarts there, not at the automatic checkpoint of a later commit with a
 * whole pass interval of frames still to sync on the host's only thread.
 */
describe('SqliteStore WAL restart after a worker pass', () => {
  const dirs: string[] = []
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
  })

  const open = (restartAfterFrames: number) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'bursar-walrestart-'))
    dirs.push(dir)
    const store = new SqliteStore(path.join(dir, 'b.db'), { restartAfterFrames })
    const db = (store as unknown as { db: Database.Database }).db
    // What the writer's connection is asked to run (the pragmas), in order.
    const pragmas: string[] = []
    const pragma = db.pragma.bind(db)
    db.pragma = ((source: string, options?: Database.PragmaOptions) => (pragmas.push(source), pragma(source, options))) as typeof db.pragma
    return { store, db, pragmas }
  }
  /** 20 commits of a few 4 KB pages each, on the writer's connection; the insert statement. */
  const fill = (db: Database.Database) => {
    db.exec('CREATE TABLE filler(x BLOB)')
    const insert = db.prepare('INSERT INTO filler(x) VALUES (?)')
    for (let i = 0; i < 20; i++) insert.run(Buffer.alloc(6000, i))
    return insert
  }
  const checkpoints = (pragmas: string[]) => pragmas.filter((p) => p === 'wal_checkpoint(PASSIVE)').length

  it('checkpoints on the writer after a pass once the WAL is past the bound, and the next commit restarts the WAL', async () => {
    const { store, db, pragmas } = open(8)
    try {
      const insert = fill(db) // well past 8 frames
      while (checkpoints(pragmas) === 0) await new Promise((r) => setTimeout(r, 20))
      // Every frame is copied now: the next commit writes the WAL from its start (a small frame count again).
      insert.run(Buffer.alloc(10, 1))
      const [r] = db.pragma('wal_checkpoint(PASSIVE)') as Array<{ log: number }>
      expect(r!.log).toBeLessThan(8)
    } finally {
      await store.close()
    }
  })

  it('leaves the WAL to the worker below the bound', async () => {
    const { store, db, pragmas } = open(1_000_000)
    try {
      fill(db)
      // The worker copies the WAL on its own (a read-only view of its progress: the frames it has checkpointed).
      const reader = new (db.constructor as typeof Database)(db.name, { readonly: true })
      try {
        const copied = () => (reader.pragma('wal_checkpoint(NOOP)') as Array<{ log: number; checkpointed: number }>)[0]
        while (copied()!.checkpointed < copied()!.log || copied()!.log === 0) await new Promise((r) => setTimeout(r, 20))
      } finally {
        reader.close()
      }
      expect(checkpoints(pragmas)).toBe(0)
    } finally {
      await store.close()
    }
  })
})
