import pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'
import { PostgresStore } from '../../host/storage/PostgresStore.js'
import { freshDatabase, releasePostgres } from '../helpers/postgres.js'

afterAll(() => releasePostgres())

const entry = (seq: number) => JSON.stringify({ seq, hash: `0x${seq.toString(16).padStart(64, '0')}`, time: 1, event: 'sign_denied', wallet: null, agentId: null, verdict: 'deny' })
const ans = (agentId: string, nonce: string) => ({ agentId, nonce, requestHash: 'h', status: 200, body: '{}', auditSeq: null, decidedAt: 1 })
const turn = () => new Promise<void>((r) => setImmediate(r))
const counts = async (url: string) => {
  const c = new pg.Client({ connectionString: url })
  await c.connect()
  const r = await c.query<{ agent_id: string; nonce: string; n: number; at: string | null }>('SELECT agent_id, nonce, fetch_count AS n, fetched_at AS at FROM agent_answers ORDER BY agent_id, nonce')
  await c.end()
  return r.rows.map((x) => ({ agent: x.agent_id, nonce: x.nonce, n: x.n, at: x.at === null ? null : Number(x.at) }))
}

/**
 * Attack (rt38 on cc89caa, PostgreSQL's fetch marks batched by the store: one UPDATE per event-loop turn): an agent
 * resends its own decided request without pause (each resend gets the stored answer and a fetch mark). Each turn's
 * marks went out as an UPDATE of their own, whether or not the one before had finished: with the answer's row slow to
 * update (here: locked by another session, as a long transaction or a slow disk would hold it), every turn's UPDATE
 * took one of the pool's 8 connections and waited, and the answers' commits (persistMany) found none left — every
 * agent's payment stalled behind one agent's fetches. Now one mark UPDATE runs at a time (marks are counted per
 * answer while it runs), so the pool keeps connections for the commits. Also: marks of the store's last turn were
 * lost at close (pool.end() before their UPDATE ran), and marks never count for another agent's answer.
 */
describe('adversarial: an agent floods resends so fetch marks hold the PostgreSQL pool (real PostgreSQL)', () => {
  it('with the answer row locked, 40 turns of marks leave the pool free for a commit; every mark lands once the lock goes', async () => {
    const url = await freshDatabase()
    const store = await PostgresStore.open(url)
    await store.persistMany([{ entries: [entry(0)], checkpoint: null, sealed: null }], [ans('ag1', 'n1'), ans('ag2', 'n1')])
    const locker = new pg.Client({ connectionString: url })
    await locker.connect()
    await locker.query('BEGIN')
    await locker.query(`SELECT 1 FROM agent_answers WHERE agent_id = 'ag1' AND nonce = 'n1' FOR UPDATE`)
    const marks: Promise<void>[] = []
    for (let i = 0; i < 40; i++) {
      marks.push(store.markAnswersFetched([{ agentId: 'ag1', nonce: 'n1' }], 1_000 + i).catch(() => {}))
      await turn()
      await new Promise((r) => setTimeout(r, 2)) // separate turns, each after the last one's UPDATE went out
    }
    // Another agent's payment commits while the marks wait on the lock (before: every pool connection waited on it).
    const committed = store.persistMany([{ entries: [entry(1)], checkpoint: null, sealed: null }], [ans('ag3', 'n9')]).then(() => 'committed')
    const outcome = await Promise.race([committed, new Promise((r) => setTimeout(() => r('stalled behind fetch marks'), 10_000))])
    await locker.query('COMMIT')
    await locker.end()
    await committed
    await Promise.all(marks)
    expect(outcome).toBe('committed')
    await store.close()
    expect(await counts(url)).toEqual([
      { agent: 'ag1', nonce: 'n1', n: 40, at: 1_000 },
      { agent: 'ag2', nonce: 'n1', n: 0, at: null }, // the same nonce of another agent: untouched
      { agent: 'ag3', nonce: 'n9', n: 0, at: null },
    ])
  })

  it("a flood in one turn is one entry per answer; marks of the store's last turn are written at close", async () => {
    const url = await freshDatabase()
    const store = await PostgresStore.open(url)
    await store.persistMany([{ entries: [entry(0)], checkpoint: null, sealed: null }], [ans('ag1', 'a'), ans('ag1', 'b'), ans('ag2', 'a')])
    for (let i = 0; i < 5_000; i++) void store.markAnswersFetched([{ agentId: 'ag1', nonce: i % 2 ? 'a' : 'b' }], 50).catch(() => {})
    await turn()
    await turn()
    void store.markAnswersFetched([{ agentId: 'ag2', nonce: 'a' }], 70).catch(() => {})
    await store.close() // at once: the mark is still pending
    expect(await counts(url)).toEqual([
      { agent: 'ag1', nonce: 'a', n: 2_500, at: 50 },
      { agent: 'ag1', nonce: 'b', n: 2_500, at: 50 },
      { agent: 'ag2', nonce: 'a', n: 1, at: 70 },
    ])
  })
})
