import type { AuditQuery } from './Store.js'

/**
 * audit39: one audit query page read under a row budget, so no query holds the host's thread (or the database) for
 * a scan of the whole log. The candidates are the entries after the cursor in (seq, chain) order: a wallet's (by its
 * index, at most `rows` of them) or, without a wallet, every chain's entries in the seq window (after, after + rows].
 * The other filters only choose which candidates are returned. `through`: every candidate up to that seq was read,
 * so a client continues there (`next`) and, following it, gets exactly what one full scan would have returned.
 */
export type AuditScan = {
  /** Matching entry texts, ascending (seq, chain), at most the query's limit. */
  texts: string[]
  /** tidy41: each text's chain ('' the root), beside it (an entry's text names its chain only on chain_started). */
  chains: string[]
  /** Candidate rows read (the budget bounds it: `rows`, or per chain within the window). */
  scanned: number
  /** Every candidate with after < seq ≤ through was read (the page ends there unless `texts` reached the limit). */
  through: number
  /** Candidates past `through` may be stored: the query is not done. */
  more: boolean
}

/** The smallest budget: a page of the route's largest limit (1,000) must fit in the window of an unfiltered query. */
export const MIN_SCAN_ROWS = 1_000

/**
 * ckpt40b: the rows of a page's budget its scan leaves for the checkpoints of what it returns (read after it, under the
 * same budget: before, up to 10,000 beside it): one per returned entry's seq and the one covering the last (limit +
 * 1), at most half the budget. An unfiltered page of the limit then fits whole; a sparse (filtered) page whose
 * checkpoint range is wider than what is left ends where its checkpoints run out (host/routes/audit.ts pageCheckpoints).
 */
export function checkpointRows(rows: number, limit: number): number {
  return Math.max(1, Math.min(limit + 1, Math.floor(rows / 2)))
}

/**
 * audit40: the seq window an unfiltered-by-wallet page reads, (after, end]: `rows` shared by the chains it spans (a
 * chain holds at most one entry per seq, so at most `rows` entries in all; before, each chain read `rows`: k chains,
 * k × the budget). At least one seq (more chains than rows: one seq per page, as many rows as chains: the operator's
 * chains, not a caller's input).
 */
export function windowEnd(after: number, rows: number, chains: number): number {
  return after + Math.max(1, Math.floor(rows / Math.max(1, chains)))
}

/**
 * audit40: a window read limited to a set of wallets (an owner's many wallets: one window, not one index read per
 * wallet): a row of another wallet is read, not matching. `wallet` is the row's wallet lower-cased (null: none).
 */
export function* onlyWallets<R extends { seq: number | string; body: string | null; wallet: string | null; chain?: string }>(read: Iterable<R>, wallets: ReadonlySet<string>) {
  for (const r of read) yield { seq: r.seq, body: r.wallet !== null && wallets.has(r.wallet) ? r.body : null, chain: r.chain }
}

/**
 * audit40: a wallet's page newest first (the agent's own payments), with the cursor `before` (entries with seq <
 * before): the ascending page logic on negated seqs, so `through` is the lowest seq read down to (every candidate
 * with through ≤ seq < before was read) and a page never ends inside a seq.
 */
export async function auditScanPageDown(
  read: Iterable<{ seq: number | string; body: string | null; chain?: string }>,
  o: { before: number; rows: number; limit: number },
): Promise<AuditScan> {
  const negated = (function* () {
    for (const r of read) yield { seq: -Number(r.seq), body: r.body, chain: r.chain }
  })()
  const page = await auditScanPage(negated, { after: -o.before, rows: o.rows, limit: o.limit, windowEnd: null, morePast: async () => true })
  return { ...page, through: -page.through }
}

/**
 * The page from the candidate rows as read (ascending; `body` null: read, not matching). `windowEnd` null: wallet
 * candidates (read with LIMIT rows), else the window's last seq (read whole). `morePast`: whether any entry past
 * the window is stored (asked only when needed). Two chains' entries can share a seq and the cursor is one seq, so
 * a page never ends inside a seq: at the limit it takes the rest of that seq's matches (a few past the limit); where
 * the LIMIT may have cut one, that seq is left to the next page.
 */
export async function auditScanPage(
  read: Iterable<{ seq: number | string; body: string | null; chain?: string }>,
  o: { after: number; rows: number; limit: number; windowEnd: number | null; morePast: () => Promise<boolean> },
): Promise<AuditScan> {
  const hits: Array<{ seq: number; text: string; chain: string }> = []
  let scanned = 0
  let last = o.after
  let cut: number | null = null
  let pastCut = false
  for (const r of read) {
    const seq = Number(r.seq)
    if (cut !== null && seq !== cut) {
      pastCut = true
      break
    }
    scanned++
    last = seq
    if (r.body === null) continue
    hits.push({ seq, text: r.body, chain: r.chain ?? '' })
    if (hits.length === o.limit) cut = seq
  }
  const page = (through: number, more: boolean) => {
    const kept = hits.filter((h) => h.seq <= through)
    return { texts: kept.map((h) => h.text), chains: kept.map((h) => h.chain), scanned, through, more }
  }
  // The wallet read stopped at its LIMIT: entries at its last seq may be unread (another chain's); that seq is read again.
  const limitCut = o.windowEnd === null && !pastCut && scanned === o.rows
  if (limitCut && last - 1 > o.after) return page(last - 1, true)
  if (cut !== null) return page(cut, true)
  if (o.windowEnd !== null) return page(o.windowEnd, await o.morePast())
  return page(last, limitCut)
}

/** The cursor after a page: its last entry's seq at the limit (as before audit39), else where the scan stopped, or null (done). */
export function auditNext(page: AuditScan, lastSeq: number | undefined, limit: number): number | null {
  return page.texts.length >= limit && lastSeq !== undefined ? lastSeq : page.more ? page.through : null
}

/** audit40: a row of the time probe (by the `audit_time` index): an entry with time ≥ `from`, its chain and wallet (lower-case). */
export type TimeProbeRow = { seq: number | string; chain: string; wallet: string | null }

/**
 * audit40: a `from` query's page, starting where its first candidate can be. The budget was a walk of the whole log
 * before the newest entries (200k entries: 40 pages, 200,000 rows, ~200 ms CPU for the last 10; auditScanBench.ts):
 * time is not monotone in seq (nothing guarantees it), so the index cannot bound the seq range, but it can list the
 * entries with time ≥ from when they are few. `probe` reads at most a quarter of the budget of them, in time order;
 * fewer than that: they are all of them, so the candidates start at the smallest seq past the cursor among those of
 * this query's chain and wallets (no such entry: nothing past the cursor matches, the query is done). A full probe
 * says nothing: the page scans from the cursor. Either way probe + scan ≤ `rows` (`scanned` counts both). As for
 * every cursor, an entry stored later at a lower seq (another chain lagging) is not seen by a cursor already past it.
 */
export async function withFromJump(
  q: AuditQuery,
  rows: number,
  probe: (from: number, cap: number) => Promise<TimeProbeRow[]>,
  scan: (q: AuditQuery, rows: number) => Promise<AuditScan>,
): Promise<AuditScan> {
  // The first page only (a follower's next pages start past where the jump took it; probing each page again cost a
  // walk that finds many entries since `from` ×1.5-1.8 in rows read: auditScanBench.ts).
  if (q.fromTime === undefined || q.newestFirst || (q.afterSeq ?? -1) !== -1) return scan(q, rows)
  const cap = Math.floor(rows / 2)
  const read = await probe(q.fromTime, cap)
  const after = q.afterSeq ?? -1
  const counted = (page: AuditScan) => ({ ...page, scanned: page.scanned + read.length })
  if (read.length >= cap) return counted(await scan(q, rows - read.length))
  const wallets = q.wallet ? new Set([q.wallet.toLowerCase()]) : q.wallets ? new Set(q.wallets) : null
  let first = Number.POSITIVE_INFINITY
  for (const r of read) {
    const seq = Number(r.seq)
    if (seq > after && seq < first && (q.chain === undefined || r.chain === q.chain) && (wallets === null || (r.wallet !== null && wallets.has(r.wallet)))) first = seq
  }
  if (first === Number.POSITIVE_INFINITY) return { texts: [], chains: [], scanned: read.length, through: after, more: false }
  return counted(await scan({ ...q, afterSeq: Math.max(after, first - 1) }, rows - read.length))
}
