import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { freshDatabase, releasePostgres } from '../../test/helpers/postgres.js'
import { scanWallets } from '../routes/audit.js'
import { type AuditScan, auditNext } from './auditScan.js'
import { PostgresStore } from './PostgresStore.js'
import { SqliteStore } from './SqliteStore.js'
import type { AuditQuery, Store } from './Store.js'

const stores: Record<'sqlite' | 'postgres', () => Promise<Store>> = {
  async sqlite() {
    return new SqliteStore(path.join(mkdtempSync(path.join(tmpdir(), 'bursar-scan-')), 'b.db'))
  },
  async postgres() {
    return PostgresStore.open(await freshDatabase())
  },
}
afterAll(() => releasePostgres())

const W = ['0x00000000000000000000000000000000000000Aa', '0x00000000000000000000000000000000000000bb', '0x00000000000000000000000000000000000000cc']
/** A log of three chains sharing seqs (ties across chains), a hole, mixed wallets (one stored mixed-case), agents, verdicts. */
function entryOf(chain: string, seq: number): string {
  const k = seq + chain.length * 7
  return JSON.stringify({
    seq,
    hash: `0x${chain.padEnd(2, '0')}${seq.toString(16).padStart(62, '0')}`,
    time: seq * 10 + chain.length,
    event: 'sign',
    wallet: k % 5 === 4 ? null : W[k % 3],
    agentId: k % 6 === 5 ? null : `agent-${k % 4}`,
    verdict: k % 41 === 3 ? 'deny' : k % 13 === 1 ? 'pending' : 'allow',
    requestId: k.toString(16).padStart(32, '0'),
  })
}
const LOG: Array<[string, number[]]> = [
  ['', [...Array(1200).keys()].filter((s) => s < 500 || s >= 550)],
  ['A', [...Array(400).keys()]],
  ['B', [...Array(50).keys()].map((i) => 300 + i)],
]
const ROWS = 50

async function fill(store: Store): Promise<void> {
  for (const [chain, seqs] of LOG)
    for (let i = 0; i < seqs.length; i += 200) await store.persistMany([{ entries: seqs.slice(i, i + 200).map((s) => entryOf(chain, s)), checkpoint: null, sealed: null }], [], chain)
}
const seqOf = (t: string) => (JSON.parse(t) as { seq: number }).seq
/** Texts in (seq, text) order: one seq's entries in any order compare equal. */
const bySeq = (ts: string[]) => [...ts].sort((a, b) => seqOf(a) - seqOf(b) || (a < b ? -1 : a > b ? 1 : 0))
/** Follows the cursor as the route serves it (auditNext); every page's reads within the budget, every page advancing. */
async function follow(read: (q: AuditQuery) => Promise<AuditScan>, f: Omit<AuditQuery, 'limit'>, limit: number, maxScanned: number) {
  const out: string[] = []
  let pages = 0
  for (let after = -1; ; pages++) {
    const page = await read({ ...f, afterSeq: after, limit })
    expect(page.scanned).toBeLessThanOrEqual(maxScanned)
    out.push(...page.texts)
    const next = auditNext(page, page.texts.length ? (JSON.parse(page.texts.at(-1)!) as { seq: number }).seq : undefined, limit)
    if (next === null) return { out, pages }
    expect(next).toBeGreaterThan(after)
    after = next
  }
}

describe.each(['sqlite', 'postgres'] as const)('%s store: a budgeted audit query, followed by its cursor, returns what the full scan did', (kind) => {
  it('every filter, one or several wallets, small and large pages: same entries, same order, each page within the row budget', async () => {
    const store = await stores[kind]()
    await fill(store)
    const filters: Array<Omit<AuditQuery, 'limit'>> = [
      {},
      { wallet: W[0]!.toLowerCase() },
      { wallet: W[1] },
      { agentId: 'agent-2' },
      { agentId: 'agent-none' },
      { verdict: 'deny' },
      { verdict: 'pending' },
      { requestId: (333).toString(16).padStart(32, '0') }, // seq 333 of '' and 326 of A (k = seq + 7)
      { fromTime: 9_000 },
      { fromTime: 11_950 }, // audit40: few enough for the time probe (5 entries): the page starts at the first
      { fromTime: 11_950, wallet: W[1] },
      { fromTime: 3_500, toTime: 3_600, chain: 'A' },
      { fromTime: 100_000 }, // none: the probe says so in one page
      { toTime: 2_000 },
      { wallet: W[2], verdict: 'deny' },
      { agentId: 'agent-1', fromTime: 3_000, toTime: 8_000 },
      { chain: 'A', verdict: 'allow' },
      { chain: 'A', wallet: W[0] }, // audit40: the chain chooses among the wallet's rows (the owner's export per chain)
    ]
    let budgeted = 0
    for (const f of filters) {
      const whole = await store.queryEntries({ ...f, limit: 100_000 })
      for (const limit of [1, 7, 1000]) {
        // audit40: ROWS in all (without a wallet the window's seqs are shared by the three chains); a wallet's read is at most ROWS rows.
        const { out, pages } = await follow((q) => store.scanEntries(q, ROWS), f, limit, ROWS)
        expect(out, `${JSON.stringify(f)} limit ${limit}`).toEqual(whole)
        if (limit === 1000 && pages > 1) budgeted++
      }
    }
    expect(budgeted).toBeGreaterThanOrEqual(filters.length - 4) // every filter took several pages but those the time probe answers: the budget bound each
    // Owner scope: several wallets merged by seq (as queryWallets did: each wallet's entries, stable by seq).
    for (const f of [{}, { verdict: 'allow' }, { agentId: 'agent-3' }] as Array<Omit<AuditQuery, 'limit'>>) {
      const wallets = [W[0]!, W[2]!]
      const per = await Promise.all(wallets.map((w) => store.queryEntries({ ...f, wallet: w, limit: 100_000 })))
      const whole = per.flat().map((t) => ({ t, seq: (JSON.parse(t) as { seq: number }).seq }))
      whole.sort((a, b) => a.seq - b.seq)
      for (const limit of [1, 7, 1000])
        // 200: each wallet's index read (100 rows each); 150 (audit40): more wallets than 150 / 100, one window for all.
        for (const rows of [200, 150]) {
          const { out } = await follow((q) => scanWallets(store, wallets, q, rows), f, limit, rows)
          // Ascending seq; within a seq (two chains, two wallets) the index reads merge by wallet, the window by chain.
          expect(bySeq(out), `owner ${JSON.stringify(f)} limit ${limit} rows ${rows}`).toEqual(bySeq(whole.map((w) => w.t)))
          expect(out.map(seqOf)).toEqual(whole.map((w) => w.seq))
        }
    }
    // audit40: the agent's payments, newest first from a `before` cursor, each page within the budget.
    for (const f of [{ wallet: W[0]!, agentId: 'agent-2' }, { wallet: W[1]!, agentId: 'agent-none' }, { wallet: W[2]! }] as Array<Omit<AuditQuery, 'limit'>>) {
      const whole = await store.queryEntries({ ...f, newestFirst: true, limit: 100_000 })
      for (const limit of [1, 7, 100]) {
        const out: string[] = []
        for (let before: number | undefined, pages = 0; ; pages++) {
          const page = await store.scanEntries({ ...f, newestFirst: true, beforeSeq: before, limit }, ROWS)
          expect(page.scanned).toBeLessThanOrEqual(ROWS)
          out.push(...page.texts)
          const next = auditNext(page, page.texts.length ? (JSON.parse(page.texts.at(-1)!) as { seq: number }).seq : undefined, limit)
          if (next === null) break
          if (before !== undefined) expect(next).toBeLessThan(before)
          before = next
        }
        expect(out, `payments ${JSON.stringify(f)} limit ${limit}`).toEqual(whole)
      }
    }
    await store.close()
  }, 180_000)
})

describe.each(['sqlite', 'postgres'] as const)('%s store: a `from` query when time is not monotone in seq (audit40: the time probe)', (kind) => {
  it('starts at the first candidate the probe lists, or scans when the probe is full: the same entries as the full scan', async () => {
    const store = await stores[kind]()
    // Times out of seq order: a few late times early in the log (a clock that stepped back, a peer's skew).
    const time = (chain: string, seq: number) => (seq % 397 === 5 ? 50_000 + seq : seq * 10) + chain.length
    const text = (chain: string, seq: number) => JSON.stringify({ ...JSON.parse(entryOf(chain, seq)), time: time(chain, seq) })
    for (const [chain, seqs] of LOG)
      for (let i = 0; i < seqs.length; i += 200) await store.persistMany([{ entries: seqs.slice(i, i + 200).map((q) => text(chain, q)), checkpoint: null, sealed: null }], [], chain)
    let jumped = 0
    for (const f of [{ fromTime: 50_000 }, { fromTime: 11_960 }, { fromTime: 11_960, wallet: W[0] }, { fromTime: 3_000 }, { fromTime: 60_000 }] as Array<Omit<AuditQuery, 'limit'>>) {
      const whole = await store.queryEntries({ ...f, limit: 100_000 })
      for (const limit of [1, 1000]) {
        const { out, pages } = await follow((q) => store.scanEntries(q, ROWS), f, limit, ROWS)
        expect(out, `${JSON.stringify(f)} limit ${limit}`).toEqual(whole)
        if (limit === 1000 && pages <= 2) jumped++
      }
    }
    expect(jumped).toBeGreaterThanOrEqual(1) // the probe answered (no entry since `from`: one page); a late time early in the log starts the walk there
    await store.close()
  }, 120_000)
})
