/**
 * Issue 18 (tail34): is the open-loop tail queueing or stalls? The bench's stack, state growth and c = 64 windows
 * (S E S E S, as make bench, without its baseline windows: the stack idles 1.5 s between instead), then open-loop
 * windows at fractions of the median c = 64 rate (Poisson arrivals, latency from the scheduled time, as make bench).
 * No heavy probes: per-thread CPU from /proc/<pid>/task/<tid>/stat every 100 ms (utilization of each main thread,
 * and the share of 100 ms bins it was ≥ 90 % busy), the host's own /metrics before and after (commits, entries per
 * commit, time in commits, its GCs by kind), enclave turns from the stored checkpoints (one signature per turn), the
 * sealed blobs as stored (polled from SQLite), and with --gc the enclave's and host's GCs (scripts/bench/gcTrace.mjs)
 * to attribute the requests at or over the p99 to seals and major GCs.
 *
 *   npx tsx scripts/bench/openLoopLoad.ts [--root DIR] [--windows 5] [--fractions 0.5] [--gc] [--env K=V,K=V] [--ms 5000]
 */
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs'
import { availableParallelism, loadavg, tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import Database from 'better-sqlite3'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { startStack } from '../lib/startStack.js'
import { LoadGenerator } from './LoadGenerator.js'
import { setupBenchAgents } from './setupBenchAgents.js'

const arg = (name: string) => {
  const i = process.argv.indexOf(`--${name}`)
  return i > 0 ? process.argv[i + 1] : undefined
}
const here = path.dirname(fileURLToPath(import.meta.url))
const gcFile = path.join(mkdtempSync(path.join(tmpdir(), 'bursar-olload-')), 'gc.jsonl')
const withGc = process.argv.includes('--gc')
const ms = Number(arg('ms') ?? 5000)
const fractions = (arg('fractions') ?? '0.5').split(',').map(Number)
const extraEnv = arg('env') ? Object.fromEntries(arg('env')!.split(',').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)])) : {}
if (withGc) {
  process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} --import=${path.join(here, 'gcTrace.mjs')}`
  process.env.BURSAR_GC_FILE = gcFile
}
const s = await startStack({ root: arg('root') ? path.resolve(arg('root')!) : undefined, env: extraEnv })
if (withGc) delete process.env.BURSAR_GC_FILE // not the load generator
const started = Date.now()
const load = await LoadGenerator.start()
const pids = { enclave: s.enclave.pid!, host: s.host.pid!, agent: load.pid }
const out: Record<string, unknown>[] = []
try {
  const agents = await setupBenchAgents({ url: s.url, owner: privateKeyToAccount(generatePrivateKey()), wallets: 4, agentsPerWallet: 16 })
  await new Promise((r) => setTimeout(r, Math.max(0, started + 2_200 - Date.now())))
  await load.run({ url: s.url, agents, concurrency: 8, requests: 0, auth: 'session' })
  await load.run({ url: s.url, agents, concurrency: 64, warmupMs: 0, durationMs: 3000, auth: 'session' })
  const rates: number[] = []
  const windows = Number(arg('windows') ?? 5)
  for (let w = 0; w < windows; w++) {
    await new Promise((r) => setTimeout(r, 1500))
    const auth = w % 2 ? 'ed25519' : 'session'
    const r = await measured(() => load.run({ url: s.url, agents, concurrency: 64, warmupMs: 1500, durationMs: ms, auth, timeline: true }))
    rates.push(r.run.opsPerSec)
    print(`c=64 ${auth}`, r)
  }
  const median = [...rates].sort((a, b) => a - b)[rates.length >> 1]!
  for (const f of fractions) {
    const rate = Math.round(f * median)
    const r = await measured(() => load.run({ url: s.url, agents, concurrency: 64, warmupMs: 1500, durationMs: ms, ratePerSec: rate, auth: 'session', timeline: true }))
    print(`open loop ${f} × ${median} = ${rate}/s`, r)
  }
} finally {
  await load.close()
  await s.stop()
}
console.log(JSON.stringify(out))

type Measured = Awaited<ReturnType<typeof measured>>

/** Runs one window with the per-thread sampler, host metrics before/after, seals polled from SQLite. */
async function measured(run: () => ReturnType<LoadGenerator['run']>) {
  const m0 = await scrape()
  const bins: Array<{ at: number; ticks: Record<string, Record<string, number>>; machine: number }> = []
  const sample = () => bins.push({ at: Date.now(), ticks: Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, threadTicks(pid)])), machine: machineBusy() })
  const db = new Database(path.join(s.dataDir, 'bursar.db'), { readonly: true, fileMustExist: true })
  const seals = new Map<string, { at: number; wallet: string; bytes: number }>()
  const poll = () => {
    try {
      for (const row of db.prepare('SELECT wallet, version, stored_at AS at, length(blob) AS bytes FROM snapshots').all() as Array<{ wallet: string; version: number; at: number; bytes: number }>)
        seals.set(`${row.wallet}:${row.version}`, { at: row.at, wallet: row.wallet === '' ? 'core' : row.wallet.slice(0, 6), bytes: row.bytes })
    } catch {}
  }
  sample()
  const timer = setInterval(() => (sample(), poll()), 100)
  const load0 = loadavg()[0]!
  const r = await run()
  clearInterval(timer)
  sample()
  poll()
  const m1 = await scrape()
  const t0 = Math.min(...r.timeline!.map(([t]) => t))
  const t1 = Math.max(...r.timeline!.map(([t, l]) => t + l))
  // Turns: one checkpoint per enclave turn (turn18), at its blocks' last entries: entries stored in the window per turn.
  const seqs = db.prepare("SELECT MIN(seq) AS a, MAX(seq) AS b, COUNT(*) AS n FROM audit_entries WHERE chain = '' AND time BETWEEN ? AND ?").get(t0, t1) as { a: number; b: number; n: number }
  const turns = db.prepare("SELECT COUNT(DISTINCT substr(signature, 1, 130)) AS n FROM audit_checkpoints WHERE chain = '' AND seq BETWEEN ? AND ?").get(seqs.a, seqs.b) as { n: number }
  const checkpoints = db.prepare("SELECT COUNT(*) AS n FROM audit_checkpoints WHERE chain = '' AND seq BETWEEN ? AND ?").get(seqs.a, seqs.b) as { n: number }
  db.close()
  return { run: r, bins, m0, m1, t0, t1, seqs, turns: turns.n, checkpoints: checkpoints.n, seals: [...seals.values()].filter((x) => x.at >= t0 - 1500 && x.at <= t1), load: [load0, loadavg()[0]!] }
}

function print(name: string, x: Measured): void {
  const r = x.run
  const l = r.latencyMs
  const secs = (x.bins.at(-1)!.at - x.bins[0]!.at) / 1000
  const answered = r.answeredAll
  // CPU per process and per thread name over the whole call (warm-up + window), as make bench samples it.
  const used = (k: string, pick: (tid: string) => boolean) =>
    Object.entries(x.bins.at(-1)!.ticks[k]!).reduce((n, [tid, t]) => n + (pick(tid) ? t - (x.bins[0]!.ticks[k]![tid] ?? 0) : 0), 0) / 100
  const cpu: Record<string, string> = {}
  for (const [k, pid] of Object.entries(pids)) {
    const all = used(k, () => true), main = used(k, (tid) => tid === `${pid}`)
    cpu[k] = `${Math.round((100 * all) / secs)} % (main ${Math.round((100 * main) / secs)} %), ${Math.round((all * 1e6) / answered)} µs/req (main ${Math.round((main * 1e6) / answered)})`
  }
  // 100 ms bins inside the measured window: how often each main thread was ≥ 90 % busy.
  const inWindow = x.bins.filter((b, i) => i > 0 && b.at >= x.t0 && b.at <= x.t1)
  const busy = (k: string, pid: number) => {
    const shares = inWindow.map((b) => {
      const prev = x.bins[x.bins.indexOf(b) - 1]!
      return ((b.ticks[k]![`${pid}`] ?? 0) - (prev.ticks[k]![`${pid}`] ?? 0)) / 100 / ((b.at - prev.at) / 1000)
    })
    return `${Math.round((100 * shares.filter((v) => v >= 0.9).length) / Math.max(1, shares.length))} %`
  }
  const d = (name: string, labels = '') => (metric(x.m1, name, labels) ?? 0) - (metric(x.m0, name, labels) ?? 0)
  const commits = d('bursar_persist_duration_seconds_count'), entries = d('bursar_persist_entries_total')
  const gcs = ['major', 'minor', 'incremental', 'weakcb'].map((k) => `${k} ${d('bursar_nodejs_gc_duration_seconds_count', `kind="${k}"`)} (${(1000 * d('bursar_nodejs_gc_duration_seconds_sum', `kind="${k}"`)).toFixed(0)} ms)`).join(', ')
  console.log(`${name}: ${r.opsPerSec}/s, p50 ${l.p50} p90 ${l.p90} p99 ${l.p99} p99.9 ${l.p999} max ${l.max} ms${r.sendLateMs ? `, sent late p99 ${r.sendLateMs.p99} ms` : ''}; load ${x.load.map((v) => v.toFixed(2)).join(' → ')}`)
  const machine = (x.bins.at(-1)!.machine - x.bins[0]!.machine) / 100 / secs
  cpu.machine = `${Math.round(100 * machine)} %`
  console.log(`  cpu: machine ${cpu.machine} of ${100 * availableParallelism()} %; enclave ${cpu.enclave}; host ${cpu.host}; load generator ${cpu.agent}; main ≥ 90 % busy in enclave ${busy('enclave', pids.enclave)}, host ${busy('host', pids.host)} of 100 ms bins`)
  console.log(`  host: ${commits} commits, ${(entries / Math.max(1, commits)).toFixed(1)} entries/commit, commits ${((1000 * d('bursar_persist_duration_seconds_sum')) / Math.max(1, commits)).toFixed(2)} ms each (${((100 * d('bursar_persist_duration_seconds_sum')) / secs).toFixed(0)} % of the wall); GCs ${gcs}`)
  console.log(`  enclave: ${x.seqs.n} entries in the window, ${x.turns} turns (${(x.seqs.n / Math.max(1, x.turns)).toFixed(1)} entries/turn, ${x.checkpoints} checkpoints); seals stored ${x.seals.length}: ${x.seals.map((v) => `${v.wallet} ${(v.bytes / 1024).toFixed(0)} KB`).join(', ')}`)
  const tail = r.timeline!.filter(([, ms]) => ms >= l.p99)
  const near = (events: Array<[number, number]>) => tail.filter(([t, ms]) => events.some(([a, b]) => a <= t + ms && b >= t)).length
  const sealSpans = x.seals.filter((v) => v.wallet !== 'core').map((v): [number, number] => [v.at - 150, v.at])
  let gcLine = ''
  if (withGc) {
    const rows = readFileSync(gcFile, 'utf8').trim().split('\n').map((s) => JSON.parse(s) as { pid: number; at: number; ms: number; kind: string })
    const span = (pid: number, kind: string) => rows.filter((g) => g.pid === pid && g.kind === kind && g.at >= x.t0 && g.at <= x.t1).map((g): [number, number] => [g.at, g.at + g.ms])
    const line = (k: string, pid: number) => ['major', 'minor'].map((kind) => { const sp = span(pid, kind); return `${k} ${kind} ${sp.length} (${sp.reduce((n, [a, b]) => n + b - a, 0).toFixed(0)} ms, p99 tail ${((100 * near(sp)) / Math.max(1, tail.length)).toFixed(0)} %)` }).join(', ')
    gcLine = `; ${line('enclave', pids.enclave)}; ${line('host', pids.host)}`
  }
  console.log(`  tail: ${tail.length} requests ≥ p99; near a stored wallet seal (150 ms before it) ${((100 * near(sealSpans)) / Math.max(1, tail.length)).toFixed(0)} %${gcLine}`)
  out.push({ name, opsPerSec: r.opsPerSec, latencyMs: l, sendLateMs: r.sendLateMs, cpu, commits, entries, turns: x.turns, entriesInWindow: x.seqs.n, seals: x.seals.length, load: x.load })
}

async function scrape(): Promise<string> {
  return (await fetch(`${s.url}/metrics`)).text()
}

function metric(text: string, name: string, labels = ''): number | undefined {
  for (const line of text.split('\n')) if (line.startsWith(name) && (labels ? line.includes(labels) : line[name.length] === ' ')) return Number(line.slice(line.lastIndexOf(' ') + 1))
  return undefined
}

/** utime + stime (clock ticks) of each thread of a process, by tid. */
function threadTicks(pid: number): Record<string, number> {
  const out: Record<string, number> = {}
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8')
        const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
        out[tid] = Number(f[11]) + Number(f[12])
      } catch {}
    }
  } catch {}
  return out
}

/** Busy clock ticks of the whole machine (all cores) from /proc/stat: user + nice + system + irq + softirq + steal. */
function machineBusy(): number {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number)
  return f[0]! + f[1]! + f[2]! + f[5]! + f[6]! + f[7]!
}
