import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { SqliteStore } from '../../host/storage/SqliteStore.js'

/**
 * rt38b on host38's migration 9 (a checkpoint's rowid = its chain's number × 2^40 + seq): every `own`-mode pair start
 * (and every crash-only restart, exit 75) is a new chain, numbered in chain_ids on its first checkpoint. From number
 * 8,192 on the key is past 2^53: computed as a double, seq 3's key rounded onto seq 4's, so seq 4's checkpoint was
 * dropped (ON CONFLICT DO NOTHING) and a look-up of seq 4 (the answer join, computed exactly in SQLite) missed or found
 * seq 3's. The 8,191 earlier chains are stood in for by one chain_ids row (what they leave behind).
 */
describe('attack: enough chains that a checkpoint key passes 2^53', () => {
  it('chain number 8,192: every checkpoint is stored, listed and found by its answer under its own seq', async () => {
    const f = path.join(mkdtempSync(path.join(tmpdir(), 'bursar-rt38b-')), 's.db')
    await new SqliteStore(f, { backgroundCheckpoint: false }).close()
    const db = new Database(f)
    db.prepare("INSERT INTO chain_ids(chain, id) VALUES ('earlier', 8191)").run()
    db.close()
    const store = new SqliteStore(f, { backgroundCheckpoint: false })
    const chain = 'c'.repeat(32)
    const seqs = [1, 2, 3, 4, 5, 6, 7, 8]
    for (const seq of seqs) await store.persistMany([{ entries: [], checkpoint: { seq, head: `h${seq}`, time: 5, signature: `s${seq}` }, sealed: null }], [], chain)
    expect((await store.checkpoints(-1, 100, chain)).map((c) => [c.seq, c.head])).toEqual(seqs.map((s) => [s, `h${s}`]))
    expect((await store.checkpoints(3, 100, chain)).map((c) => c.seq)).toEqual([4, 5, 6, 7, 8])
    expect((await store.latestCheckpoint(chain))?.seq).toBe(8)
    expect(await store.chains()).toContain(chain)
    // Each key as SQLite computes it (the answers' join): the row under it is that seq's.
    const check = new Database(f, { readonly: true })
    const rows = check.prepare('SELECT c.seq, c.ckey = k.id * 1099511627776 + c.seq AS exact FROM audit_checkpoints c JOIN chain_ids k ON k.chain = c.chain WHERE c.chain = ? ORDER BY c.seq').all(chain) as { seq: number; exact: number }[]
    check.close()
    expect(rows).toEqual(seqs.map((seq) => ({ seq, exact: 1 })))
    await store.close()
  })
})
