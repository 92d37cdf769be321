import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { releasePostgres } from '../helpers/postgres.js'
import { type AuditHost, auditHost, followEntries, keysOf, type LogRow, STORE_KINDS, storeWithLog } from './auditBudgetHost.js'

/** The host's row budget per request (BURSAR_AUDIT_SCAN_ROWS at its least). */
const BUDGET = 1_000
/** Scale-out peers' chains in one store: audit39 read BUDGET seqs of each (4 × the budget a page). */
const CHAINS = ['', 'peer1', 'peer2', 'peer3']
const PER_CHAIN = 10_000

/**
 * Attack (audit39's open end): a query without `wallet` (an open host's stranger, the operator, a filter that matches
 * nothing) read the seq window (after, after + budget] of every chain in the store: k chains, k × the budget per
 * page. Now the chains share the budget (a window of budget / k seqs). Asserted on rows: what the host reports
 * reading, and independently, the stored rows in the window the page covered (a filter that matches nothing never
 * stops a page early, so the two are equal). The honest unfiltered read still returns every entry exactly once.
 */
describe.each(STORE_KINDS)('adversarial: an audit query across %s-stored chains stalls payments', (kind) => {
  const rows: LogRow[] = CHAINS.flatMap((chain) => Array.from({ length: PER_CHAIN }, (_, seq) => ({ chain, seq, wallet: null, agentId: `agt_${seq % 3}` })))
  let host: AuditHost
  let authorization: string
  beforeAll(async () => {
    host = await auditHost(await storeWithLog(kind, rows), BUDGET, new Map())
    authorization = `Bearer ${host.operator}`
  }, 120_000)
  afterAll(async () => {
    await host?.close()
    if (kind === 'postgres') releasePostgres()
  })

  it(`a filter matching nothing: each page reads at most ${BUDGET} rows over ${CHAINS.length} chains (stored rows in its window counted apart)`, async () => {
    const pages = await followEntries(host, { agent: 'agt_nobody', limit: '1000' }, authorization)
    for (const p of pages) {
      const stored = rows.filter((r) => r.seq > p.after && r.seq <= p.scannedThrough).length
      expect(p.scanned, JSON.stringify({ ...p, entries: p.entries.length })).toBe(stored)
      expect(p.scanned).toBeLessThanOrEqual(BUDGET)
      expect(p.entries).toEqual([])
    }
    expect(pages.length).toBeGreaterThanOrEqual(rows.length / BUDGET)
    console.log(`${kind}: ${pages.length} pages, rows read per page max ${Math.max(...pages.map((p) => p.scanned))}`)
  }, 120_000)

  it('the honest unfiltered read and an agent filter, page by page: every entry once, in (seq, chain) order', async () => {
    for (const [query, want] of [
      [{ limit: '1000' }, rows],
      [{ agent: 'agt_1', limit: '1000' }, rows.filter((r) => r.agentId === 'agt_1')],
    ] as const) {
      const pages = await followEntries(host, query, authorization)
      expect(pages.every((p) => p.scanned <= BUDGET)).toBe(true)
      const sorted = [...want].sort((a, b) => a.seq - b.seq || (a.chain < b.chain ? -1 : a.chain > b.chain ? 1 : 0))
      expect(keysOf(pages.flatMap((p) => p.entries))).toEqual(keysOf(sorted))
    }
  }, 120_000)
})
