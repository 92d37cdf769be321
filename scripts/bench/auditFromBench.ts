/**
 * audit40: what a time-filtered (`from`) audit query costs when followed to its end, in process on a SQLite store of
 * N synthetic entries (~800 B each, inserted directly; time = seq, so `from` picks the newest entries).
 *   npx tsx scripts/bench/auditFromBench.ts [--entries 200000] [--rows 5000] [--pairs 3]
 * Prints per `from`: pages, rows read, CPU ms of the whole walk and of its costliest page (min/median/max over runs).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import path from 'node:path'
import Database from 'better-sqlite3'
import { auditNext } from '../../host/storage/auditScan.js'
import { SqliteStore } from '../../host/storage/SqliteStore.js'

const arg = (name: string, d: number) => {
  const i = process.argv.indexOf(`--${name}`)
  return i > 0 ? Number(process.argv[i + 1]) : d
}
const N = arg('entries', 200_000)
const ROWS = arg('rows', 5_000)
const RUNS = arg('pairs', 3)
const T0 = 1_700_000_000_000
const dir = mkdtempSync(path.join(tmpdir(), 'audit40-bench-'))
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
      const body = JSON.stringify({ seq, time: T0 + seq, event: 'decision', wallet, agentId: `agent-${seq % 64}`, verdict: 'allow', hash: 'h', pad })
      ins.run('', seq, 'h', T0 + seq, 'decision', wallet, `agent-${seq % 64}`, 'allow', body, 0)
    }
  })()
  db.close()
}
const store = new SqliteStore(file, { backgroundCheckpoint: false })
const cpuMs = async <T>(f: () => Promise<T>): Promise<[T, number]> => {
  const t = process.cpuUsage()
  const r = await f()
  const d = process.cpuUsage(t)
  return [r, (d.user + d.system) / 1000]
}
const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  return `${s[0]!.toFixed(1)}/${s[Math.floor(s.length / 2)]!.toFixed(1)}/${s[s.length - 1]!.toFixed(1)}`
}
console.log(`entries ${N}, budget ${ROWS} rows, load ${loadavg().map((l) => l.toFixed(1)).join(' ')}`)
for (const [name, fromTime] of [
  ['from: last 10', T0 + N - 10],
  ['from: last 1%', T0 + N - N / 100],
  ['from: middle', T0 + N / 2],
  ['from: start', T0],
] as const) {
  const walks: number[] = []
  const worst: number[] = []
  let pages = 0
  let rows = 0
  let got = 0
  for (let r = 0; r < RUNS; r++) {
    pages = rows = got = 0
    let w = 0
    let total = 0
    for (let after: number | null = -1; after !== null; pages++) {
      const [page, ms] = await cpuMs(() => store.scanEntries({ fromTime, afterSeq: after as number, limit: 1000 }, ROWS))
      rows += page.scanned
      got += page.texts.length
      total += ms
      w = Math.max(w, ms)
      after = auditNext(page, page.texts.length ? (JSON.parse(page.texts.at(-1)!) as { seq: number }).seq : undefined, 1000)
    }
    walks.push(total)
    worst.push(w)
  }
  console.log(`${name.padEnd(16)} ${got} entries, ${pages} pages, ${rows} rows read; walk ${stats(walks)} ms CPU, costliest page ${stats(worst)} ms`)
}
console.log(`load ${loadavg().map((l) => l.toFixed(1)).join(' ')}`)
await store.close()
rmSync(dir, { recursive: true, force: true })
