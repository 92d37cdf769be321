import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runAuditTail } from '../../cli/commands/audit.js'
import { releasePostgres } from '../helpers/postgres.js'
import { type AuditHost, auditHost, type LogRow, STORE_KINDS, storeWithLog } from './auditBudgetHost.js'

/** The host's row budget per request (BURSAR_AUDIT_SCAN_ROWS at its least). */
const BUDGET = 1_000
/** Stored seqs: 0-499, then none for 2,500 seqs (wider than the budget: pages there are empty), then 3000-3099. */
const SEQS = [...Array.from({ length: 500 }, (_, i) => i), ...Array.from({ length: 100 }, (_, i) => 3_000 + i)]

/**
 * Attack (audit39's open end, on the CLI): a stretch of the log wider than the row budget with no entries for the
 * caller (a hole in one chain; for an owner, other wallets' entries) gives an empty page whose `next` moves on.
 * `bursar audit tail` ignored `next` after an empty page and asked for the same cursor again, every interval, forever:
 * it never showed an entry past the stretch. Now it continues at `next` and says how far it read. Waits on the entry
 * after the stretch being printed (a condition; the deadline only ends a stuck run).
 */
describe.each(STORE_KINDS)('adversarial: audit tail spins on an empty page (%s)', (kind) => {
  const rows: LogRow[] = SEQS.map((seq) => ({ chain: '', seq, wallet: null, agentId: 'agt_a' }))
  let host: AuditHost
  beforeAll(async () => {
    host = await auditHost(await storeWithLog(kind, rows), BUDGET, new Map())
  }, 120_000)
  afterAll(async () => {
    await host?.close()
    if (kind === 'postgres') releasePostgres()
  })

  it('the tail reads past a stretch wider than the budget and prints every entry after it, once', async () => {
    const lines: string[] = []
    const abort = new AbortController()
    let seen: () => void = () => {}
    const last = new Promise<void>((resolve) => (seen = resolve))
    const deadline = setTimeout(() => abort.abort(), 60_000)
    const write = (l: string) => {
      lines.push(l)
      if (l.startsWith(`#${SEQS.at(-1)} `)) {
        seen()
        abort.abort()
      }
    }
    const tail = runAuditTail({ host: host.url, token: host.operator, intervalMs: 5, signal: abort.signal, write })
    await Promise.race([last, new Promise<void>((resolve) => abort.signal.addEventListener('abort', () => resolve()))])
    clearTimeout(deadline)
    await tail
    const printed = lines.filter((l) => l.startsWith('#')).map((l) => Number(l.slice(1, l.indexOf(' '))))
    expect(printed).toEqual(SEQS) // every entry once, the ones past the stretch too
    const progress = lines.filter((l) => l.startsWith('.. read through seq'))
    expect(progress.length).toBeGreaterThanOrEqual(2) // the empty pages, each moving on: (499, 1499], (1499, 2499]
    expect(new Set(progress).size).toBe(progress.length) // never the same stretch twice
    // The stretch is a gap in the chain: the tail says so at the entry after it.
    expect(lines.some((l) => l.startsWith('!! CHAIN BROKEN at seq 3000: does not follow seq 499'))).toBe(true)
  }, 90_000)
})
