import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { runAuditTail } from '../../cli/commands/audit.js'
import { SqliteStore } from '../../host/storage/SqliteStore.js'
import type { Store } from '../../host/storage/Store.js'
import { CHAIN_B, type ChainLog, multiChainAuditLog } from '../helpers/multiChainAuditLog.js'
import { waitFor } from '../helpers/startStack.js'
import { auditHost } from './auditBudgetHost.js'

/** Where the root chain stands when the tail has read it all and chain B is born: B's seqs below this were never served. */
const BORN_AT = 4

/** Stores `log`'s entries with seq in [from, to) as the host persists the enclave's blocks (recorded hash, checkpoint). */
async function persist(store: Store, log: ChainLog, from: number, to = Infinity) {
  for (const [i, entry] of log.entries.entries()) {
    if (entry.seq < from || entry.seq >= to) continue
    const { seq, head, time, signature } = log.checkpoints[i]!
    await store.persist({ entries: [JSON.stringify({ ...entry, hash: log.hashes[i] })], checkpoint: { seq, head, time, signature }, sealed: null }, log.chain)
  }
}

/**
 * Attack (rt42, on chains41's tail): a cluster's chains share one seq cursor. `bursar audit tail` reads
 * `/v1/audit/entries?after=CURSOR`; a chain born after the cursor passed seq N comes into view at N + 1, and its
 * seqs 0..N are below every later cursor: never served to the running tail. chains41's tail printed ".. chain B first
 * seen at seq N + 1 (its earlier entries are before the cursor: not checked)" and trusted B from there — so B's first
 * entries (its chain_started, the first payments of the wallets that moved there) were never shown, and a host that
 * withheld them (or served others in their place) passed the tail unflagged. Now the tail reads a newly seen chain's
 * entries after its start (the pages from the start, that chain's only) before going on, and checks the chain from
 * its seq 0 (genesis) when it runs from the beginning.
 *
 * The log is built by the enclave's appender (multiChainAuditLog); a real SQLite store and the host's real audit
 * routes on a socket; the tail is the CLI's. The root chain's first BORN_AT entries are stored, the tail prints them;
 * then the rest of the root and chain B are stored (honest), or the rest of the root and B without its first BORN_AT
 * entries (a host withholding them).
 */
describe('adversarial: audit tail skips a chain born behind its cursor (rt42)', () => {
  const log = multiChainAuditLog()
  const key = (l: string) => /^#(\d+)(?: of chain ([0-9a-f]{32}))? /.exec(l)
  const lastOf = (c: ChainLog) => `${c.chain}:${c.entries.at(-1)!.seq}`

  async function tail(withhold: boolean) {
    const store = new SqliteStore(path.join(mkdtempSync(path.join(tmpdir(), 'bursar-rt42-tail-')), 'b.db'), { backgroundCheckpoint: false })
    const host = await auditHost(store, 1_000, new Map())
    const lines: string[] = []
    const abort = new AbortController()
    const printed = () => lines.flatMap((l) => (key(l) ? [`${key(l)![2] ?? ''}:${key(l)![1]}`] : []))
    try {
      await persist(store, log.root, 0, BORN_AT)
      const run = runAuditTail({ host: host.url, token: host.operator, intervalMs: 20, signal: abort.signal, write: (l) => lines.push(l) })
      await waitFor(() => printed().length === BORN_AT, 30_000, 'the root chain printed', lines)
      await persist(store, log.root, BORN_AT)
      await persist(store, log.b, withhold ? BORN_AT : 0)
      // Both chains' last entries are on the tail's next pages: once printed, everything before them was too.
      await waitFor(() => printed().includes(lastOf(log.root)) && printed().includes(lastOf(log.b)), 30_000, 'both chains printed to their last entry', lines)
      abort.abort()
      return { result: await run, lines, printed: printed() }
    } finally {
      abort.abort()
      await host.close()
    }
  }

  it('honest host: chain B is printed from its seq 0, every entry of both chains once, nothing flagged', async () => {
    expect(log.b.entries.at(-1)!.seq).toBeGreaterThan(BORN_AT) // B comes into view past the cursor
    const { result, lines, printed } = await tail(false)
    const all = [log.root, log.b].flatMap((c) => c.entries.map((e) => `${c.chain}:${e.seq}`))
    expect([...printed].sort()).toEqual([...all].sort())
    expect(printed.filter((k) => k === `${CHAIN_B}:0`)).toHaveLength(1) // chain_started: old tail never printed it
    expect(lines.filter((l) => l.startsWith('!!') || l.startsWith('.. chain'))).toEqual([])
    expect(result.exitCode).toBe(0)
  }, 60_000)

  it("a host withholding chain B's entries below the cursor: CHAIN BROKEN at B's first served entry, exit 1", async () => {
    const { result, lines, printed } = await tail(true)
    expect(printed.filter((k) => k.startsWith(`${CHAIN_B}:`)).map((k) => Number(k.split(':')[1]))).toEqual(log.b.entries.filter((e) => e.seq >= BORN_AT).map((e) => e.seq))
    expect(lines.filter((l) => l.startsWith('!!'))).toEqual([`!! CHAIN BROKEN at seq ${BORN_AT} of chain ${CHAIN_B}: does not follow seq -1 (${'0x' + '0'.repeat(64)})`])
    expect(result.exitCode).toBe(1)
  }, 60_000)
})
