import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runAuditVerify } from '../../cli/commands/audit.js'
import { PostgresStore } from '../../host/storage/PostgresStore.js'
import { SqliteStore } from '../../host/storage/SqliteStore.js'
import type { Store } from '../../host/storage/Store.js'
import type { AuditCheckpoint, AuditEntry } from '../../shared/audit/auditEntry.js'
import { mockAuditLog } from '../../shared/audit/mockAuditLog.js'
import { verifyAuditLog } from '../../shared/audit/verifyAuditLog.js'
import { verifyAuditSlice } from '../../shared/audit/verifyAuditSlice.js'
import { canonicalJson } from '../../shared/canonical/canonicalJson.js'
import { AUDIT_READ_SCHEME, signAuditReadToken } from '../../shared/owner/auditReadAuth.js'
import { freshDatabase, releasePostgres } from '../helpers/postgres.js'
import { type AuditHost, auditHost, STORE_KINDS, type StoreKind } from './auditBudgetHost.js'

/** The host's row budget per request (BURSAR_AUDIT_SCAN_ROWS at its least). */
const BUDGET = 1_000
/** Entries, each under its own signed checkpoint (a busy host: one persist block per answer). */
const N = 4_000
/** Every RARE-th entry is another wallet's (and agent's): a filter matching few entries far apart. */
const RARE = 250
const MAIN = '0x1111111111111111111111111111111111111111'
const SPARSE = '0x3333333333333333333333333333333333333333'
const RARE_AGENT = `agt_${'cd'.repeat(20)}`

type Page = { scope: string; entries: Array<AuditEntry & { hash: string }>; checkpoints: AuditCheckpoint[]; next: number | null; scanned: number; scannedThrough: number }

/**
 * The store as the host holds it, every checkpoint row it hands out counted (and the entry rows its scans report);
 * `reads`: the checkpoint reads (queries) it was asked for.
 */
function counted(store: Store): { store: Store; rows: { n: number; reads: number } } {
  const rows = { n: 0, reads: 0 }
  const proxy = new Proxy(store, {
    get(target, key) {
      if (key === 'checkpoints' || key === 'checkpointsAt')
        return async (...a: unknown[]) => {
          const cps = await (target[key] as (...b: unknown[]) => Promise<unknown[]>)(...a)
          rows.n += cps.length
          rows.reads++
          return cps
        }
      if (key === 'scanEntries')
        return async (...a: Parameters<Store['scanEntries']>) => {
          const page = await target.scanEntries(...a)
          rows.n += page.scanned
          return page
        }
      const v = Reflect.get(target, key, target)
      return typeof v === 'function' ? v.bind(target) : v
    },
  })
  return { store: proxy, rows }
}

/** A real store (SQLite or PostgreSQL) with `log`'s entries and checkpoints, persisted as the host does (group commits). */
async function storeOf(kind: StoreKind, log: ReturnType<typeof mockAuditLog>): Promise<Store> {
  const store: Store = kind === 'sqlite' ? new SqliteStore(path.join(mkdtempSync(path.join(tmpdir(), 'bursar-ckpt40b-')), 'b.db'), { backgroundCheckpoint: false }) : await PostgresStore.open(await freshDatabase())
  for (let i = 0; i < log.entries.length; i += 500) {
    const blocks = log.entries.slice(i, i + 500).map((e, j) => ({ entries: [JSON.stringify({ ...e, hash: log.hashes[i + j] })], checkpoint: log.checkpoints[i + j] ?? null, sealed: null }))
    await store.persistMany(blocks)
  }
  return store
}

/**
 * Attack (rt40's open end): audit40 bounded the entry rows of one `/v1/audit/entries` page by the host's row budget,
 * but the page's checkpoints were read beside it, up to 10,000 rows (`rangeCheckpoints`; an owner's: one per entry
 * returned). With a checkpoint per entry (one per persist block) any caller made the host read budget + 10,000 rows
 * per request. Now the checkpoint rows count against the same budget: the scan leaves them room, and a page whose
 * checkpoints do not fit ends where they run out (fewer entries, `next` there). Rows are counted at the store (the
 * checkpoint rows it returned, the entry rows its scans report), never timed; the honest pages followed to the end
 * still verify: the whole log with `bursar audit verify` (every checkpoint signed, head at the last entry), a
 * filter's and an owner's entries each under its signed checkpoint (verifyAuditSlice: none unvouched).
 */
describe.each(STORE_KINDS)('adversarial: an audit page on %s reads checkpoints past the row budget', (kind) => {
  const log = mockAuditLog({ n: 0 })
  for (let i = 0; i < N; i++) log.append(i % RARE === RARE - 1 ? { wallet: SPARSE, agentId: RARE_AGENT } : undefined, true)
  const owner = privateKeyToAccount(generatePrivateKey())
  let host: AuditHost
  let rows: { n: number; reads: number }
  let operator: string
  beforeAll(async () => {
    const c = counted(await storeOf(kind, log))
    rows = c.rows
    host = await auditHost(c.store, BUDGET, new Map([[MAIN, [owner.address]], [SPARSE, ['0x000000000000000000000000000000000000dEaD']]]))
    operator = `Bearer ${host.operator}`
  }, 120_000)
  afterAll(async () => {
    await host?.close()
    if (kind === 'postgres') releasePostgres()
  })

  /** Every page of the query from the start, each with the rows the store counted while answering it. */
  async function follow(query: Record<string, string>, authorization: string): Promise<Array<Page & { read: number; reads: number; after: number }>> {
    const pages: Array<Page & { read: number; reads: number; after: number }> = []
    for (let after = -1; ; ) {
      rows.n = 0
      rows.reads = 0
      const res = await fetch(`${host.url}/v1/audit/entries?${new URLSearchParams({ ...query, after: String(after) })}`, { headers: { authorization } })
      expect(res.status).toBe(200)
      const page = (await res.json()) as Page
      pages.push({ ...page, read: rows.n, reads: rows.reads, after })
      for (const p of pages.slice(-1)) {
        expect(p.read, JSON.stringify({ ...p, entries: p.entries.length, checkpoints: p.checkpoints.length })).toBeLessThanOrEqual(BUDGET)
        expect(p.read).toBeLessThanOrEqual(p.scanned) // the host counts what it read (an owner's exact reads: a seq each)
        expect(p.scanned).toBeLessThanOrEqual(BUDGET)
      }
      if (page.next === null) return pages
      expect(page.next).toBeGreaterThan(after)
      after = page.next
    }
  }

  /** Entries and checkpoints of the pages, each once, in seq order. */
  const collect = (pages: Page[]) => ({
    entries: pages.flatMap((p) => p.entries),
    checkpoints: [...new Map(pages.flatMap((p) => p.checkpoints).map((c) => [c.seq, c])).values()].sort((a, b) => a.seq - b.seq),
  })

  it(`the whole log's pages read at most ${BUDGET} rows each and verify end to end with bursar audit verify`, async () => {
    for (const limit of ['1000', '100']) {
      const pages = await follow({ limit }, operator)
      const { entries, checkpoints } = collect(pages)
      expect(entries.map((e) => e.seq)).toEqual(log.entries.map((e) => e.seq))
      expect(checkpoints.map((c) => c.seq)).toEqual(log.checkpoints.map((c) => c.seq)) // every one served, on some page
      // What `bursar audit verify --file` reads: the export's layout (each checkpoint after the entry it covers).
      const lines = entries.map((e) => `${canonicalJson({ type: 'entry', ...e })}\n${canonicalJson({ type: 'checkpoint', ...checkpoints[e.seq]! })}\n`)
      const file = path.join(mkdtempSync(path.join(tmpdir(), 'bursar-ckpt40b-')), 'pages.jsonl')
      writeFileSync(file, lines.join(''))
      const cli = await runAuditVerify({ file, publicKey: log.publicKeyHex })
      expect(cli.exitCode, cli.stdout + cli.stderr).toBe(0)
      const v = verifyAuditLog({ entries: entries.map(({ hash: _h, ...e }) => e), hashes: entries.map((e) => e.hash), checkpoints, publicKey: log.publicKeyHex })
      expect(v).toMatchObject({ ok: true, count: N, head: { seq: N - 1 }, signedHead: { seq: N - 1 } })
      console.log(`${kind}, limit ${limit}: ${pages.length} pages, rows read per page max ${Math.max(...pages.map((p) => p.read))}`)
    }
  }, 120_000)

  it('a filter matching entries far apart (agent, wallet): within the budget, each entry returned under its signed checkpoint', async () => {
    const rare = log.entries.filter((e) => e.wallet === SPARSE).map((e) => e.seq)
    for (const query of [{ agent: RARE_AGENT, limit: '100' }, { wallet: SPARSE, limit: '1000' }] as Record<string, string>[]) {
      const pages = await follow(query, operator)
      const { entries, checkpoints } = collect(pages)
      expect(entries.map((e) => e.seq)).toEqual(rare) // none lost where a page ended at its checkpoints
      const slice = verifyAuditSlice({ entries: entries.map(({ hash: _h, ...e }) => e), hashes: entries.map((e) => e.hash), checkpoints, publicKey: log.publicKeyHex })
      expect(slice).toMatchObject({ ok: true, count: rare.length, signed: rare.length, unvouched: [] })
      console.log(`${kind}, ${JSON.stringify(query)}: ${pages.length} pages, rows read per page max ${Math.max(...pages.map((p) => p.read))}`)
    }
  }, 120_000)

  it("an owner's pages (a checkpoint read per entry returned): within the budget, every entry of its wallet signed", async () => {
    const authorization = `${AUDIT_READ_SCHEME} ${await signAuditReadToken({ account: owner, host: host.url, expiresAt: Date.now() + 3_600_000 })}`
    const pages = await follow({ limit: '1000' }, authorization)
    const { entries, checkpoints } = collect(pages)
    expect(entries.map((e) => e.seq)).toEqual(log.entries.filter((e) => e.wallet === MAIN).map((e) => e.seq))
    const slice = verifyAuditSlice({ entries: entries.map(({ hash: _h, ...e }) => e), hashes: entries.map((e) => e.hash), checkpoints, publicKey: log.publicKeyHex })
    expect(slice).toMatchObject({ ok: true, count: entries.length, signed: entries.length, unvouched: [] })
    // tidy41: one checkpoint read per page (before: one query per returned seq, ~500 round trips a page on PostgreSQL).
    expect(pages.map((p) => p.reads).filter((n) => n > 1)).toEqual([])
    expect(Math.max(...pages.map((p) => p.read))).toBeGreaterThan(100) // the pages did hold many checkpointed entries
    console.log(`${kind}, owner: ${pages.length} pages, rows read per page max ${Math.max(...pages.map((p) => p.read))}, checkpoint reads per page max ${Math.max(...pages.map((p) => p.reads))}`)
  }, 120_000)
})
