/**
 * audit39: one audit query's work on the host's thread, old full scan (queryEntries) vs the budgeted page
 * (scanEntries), in process on a SQLite store of N synthetic entries (~800 B each, inserted directly).
 *   npx tsx scripts/bench/auditScanBench.ts [--entries 200000] [--rows 5000] [--pairs 3]
 * Prints per filter: rows read and CPU ms per query (min/median/max over ABAB pairs), and the load. audit40: then a
 * `from` query followed to its end (time = seq: `from` picks the newest): pages, rows read, CPU ms of the whole walk
 * and of its costliest page (min/median/max over `pairs` walks).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import path from 'node:path'
import Database from 'better-sqlite3'
import { SqliteStore } from '../../host/storage/SqliteStore.js'
import { auditNext } from '../../host/storage/auditScan.js'
import type { AuditQuery } from '../../host/storage/Store.js'

const arg = (name: string, d: number) => {
  const i = process.argv.indexOf(`--${name}`)
  return i > 0 ? Number(process.argv[i + 1]) : d
}
const N = arg('entries', 200_000)
const ROWS = arg('rows', 5_000)
const PAIRS = arg('pairs', 3)
const dir = mkdtempSync(path.join(tmpdir(), 'audit39-bench-'))
const file = path.join(dir, 'store.sqlite')
new SqliteStore(file, { backgroundCheckpoint: false }).close()
{
  const db = new Database(file)
  db.pragma('journal_mode = WAL')
  const ins = db.prepare('INSERT INTO audit_entries(chain, seq, hash, time, event, wallet, agent_id, verdict, body, wallet_seq) VALUES (?,?,?,?,?,?,?,?,?,?)')
  const pad = 'x'.repeat(560)
  db.transaction(() => {
    for (let seq = 0; seq < N; seq++) {
      const wallet = `0x${(seq % 16).toString(16).padStart(40, '0')}`
      const agentId = `agent-${seq % 64}`
      const verdict = seq % 1000 === 7 ? 'deny' : 'allow'
      const body = JSON.stringify({ seq, time: 1_700_000_000_000 + seq, event: 'decision', wallet, agentId, verdict, requestId: seq.toString(16).padStart(32, '0'), hash: 'h', pad })
      ins.run('', seq, 'h', 1_700_000_000_000 + seq, 'decision', wallet, agentId, verdict, body, 0)
    }
  })()
  db.close()
}
const store = new SqliteStore(file, { backgroundCheckpoint: false })
const rare = 'agent-none'
const filters: Array<[string, Omit<AuditQuery, 'limit'>]> = [
  ['none', {}],
  ['agent (none match)', { agentId: rare }],
  ['verdict deny', { verdict: 'deny' }],
  ['request (last entry)', { requestId: (N - 1).toString(16).padStart(32, '0') }],
  ['from (last 10)', { fromTime: 1_700_000_000_000 + N - 10 }],
  ['wallet + verdict', { wallet: `0x${'0'.repeat(40)}`, verdict: 'deny' }],
]
const cpuMs = async (f: () => Promise<unknown>) => {
  const t = process.cpuUsage()
  await f()
  const d = process.cpuUsage(t)
  return (d.user + d.system) / 1000
}
const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  return `${s[0]!.toFixed(1)}/${s[Math.floor(s.length / 2)]!.toFixed(1)}/${s[s.length - 1]!.toFixed(1)}`
}
console.log(`entries ${N}, budget ${ROWS} rows, load ${loadavg().map((l) => l.toFixed(1)).join(' ')}`)
for (const [name, f] of filters) {
  const q = { ...f, afterSeq: -1, limit: 100 }
  const old: number[] = []
  const neu: number[] = []
  let scanned = 0
  for (let i = 0; i < PAIRS; i++) {
    old.push(await cpuMs(() => store.queryEntries(q)))
    neu.push(await cpuMs(async () => (scanned = (await store.scanEntries(q, ROWS)).scanned)))
  }
  console.log(`${name.padEnd(22)} old full scan ${stats(old)} ms CPU | budgeted page ${stats(neu)} ms CPU, ${scanned} rows read`)
}
for (const [name, fromTime] of [
  ['from: last 10', 1_700_000_000_000 + N - 10],
  ['from: last 1%', 1_700_000_000_000 + N - N / 100],
  ['from: middle', 1_700_000_000_000 + N / 2],
  ['from: start', 1_700_000_000_000],
] as const) {
  const walks: number[] = []
  const worst: number[] = []
  let pages = 0
  let rows = 0
  for (let r = 0; r < PAIRS; r++) {
    pages = rows = 0
    let w = 0
    let total = 0
    for (let after: number | null = -1; after !== null; pages++) {
      let page: Awaited<ReturnType<typeof store.scanEntries>> | undefined
      const ms = await cpuMs(async () => (page = await store.scanEntries({ fromTime, afterSeq: after as number, limit: 1000 }, ROWS)))
      rows += page!.scanned
      total += ms
      w = Math.max(w, ms)
      after = auditNext(page!, page!.texts.length ? (JSON.parse(page!.texts.at(-1)!) as { seq: number }).seq : undefined, 1000)
    }
    walks.push(total)
    worst.push(w)
  }
  console.log(`${name.padEnd(16)} walk: ${pages} pages, ${rows} rows read, ${stats(walks)} ms CPU, costliest page ${stats(worst)} ms`)
}
console.log(`load ${loadavg().map((l) => l.toFixed(1)).join(' ')}`)
await store.close()
rmSync(dir, { recursive: true, force: true })
