import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { SqliteStore } from '../storage/SqliteStore.js'
import { rangeCheckpoints } from './audit.js'

const entry = (seq: number) =>
  JSON.stringify({ seq, hash: `0x${seq.toString(16).padStart(64, '0')}`, time: 1, event: 'sign_denied', wallet: null, agentId: null, verdict: 'deny' })
const cp = (seq: number) => ({ seq, head: `0x${seq.toString(16).padStart(64, '0')}`, time: 1, signature: `0x${'00'.repeat(64)}` })

/**
 * /v1/audit/entries reads a page of entries, then the checkpoints for it. A persist between the two reads (the
 * next entries with the checkpoint over them) must not put a checkpoint past the end of the log's last page: the
 * console verifies the pages it collected as the whole log, and would read the log as truncated (audit_truncated).
 */
describe('audit entries: the last page of the whole log never carries a checkpoint past its last entry', () => {
  const store = new SqliteStore(path.join(mkdtempSync(path.join(tmpdir(), 'bursar-range-')), 'b.db'))
  afterAll(() => store.close())

  it('a checkpoint stored between the entries read and the checkpoints read waits for the next page', async () => {
    // The newest checkpoint stored is at 2: the one over 3 and 4 came with entries still in flight (held by the host).
    await store.persist({ entries: [0, 1, 2].map(entry), checkpoint: cp(2), sealed: null })
    await store.persist({ entries: [3, 4].map(entry), checkpoint: null, sealed: null })
    const page = (await store.entriesAfter(-1, 100)).map((t) => JSON.parse(t) as { seq: number })
    // Between the reads: the next answer's entries and the checkpoint over them are stored.
    await store.persist({ entries: [5, 6].map(entry), checkpoint: cp(6), sealed: null })
    expect((await rangeCheckpoints(store, page, true)).map((c) => c.seq)).toEqual([2])
    // A page in the middle of the log (or a filtered one) still gets the first checkpoint that covers its last entry.
    expect((await rangeCheckpoints(store, page, false)).map((c) => c.seq)).toEqual([2, 6])
    // The next read of the whole log's end gets the entries and their checkpoint together.
    const rest = (await store.entriesAfter(4, 100)).map((t) => JSON.parse(t) as { seq: number })
    expect(rest.map((e) => e.seq)).toEqual([5, 6])
    expect((await rangeCheckpoints(store, rest, true)).map((c) => c.seq)).toEqual([6])
  })
})
