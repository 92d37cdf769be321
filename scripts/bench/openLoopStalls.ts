/**
 * Issue 18 (lat18): what holds the open-loop tail. The bench's stack and state growth (c = 64 windows), then one
 * open-loop window at half the median c = 64 rate (Poisson arrivals, latency from the scheduled time, as make bench),
 * with a timeline of every request beside: each GC of the enclave and host (scripts/bench/gcTrace.mjs), each 100 ms
 * of event-loop delay of the enclave, host and load generator (loopDelay.mjs), and each sealed blob the host stored
 * (polled from its SQLite file). Requests over 5 ms are grouped into episodes (overlapping in time); each episode is
 * printed with what overlapped it, and the share of the requests over the p99 that each kind of event overlapped.
 * With `perf` (syscall tracepoints): the host's fsyncs (its WAL-checkpoint worker) and every host syscall of WAL or
 * socket I/O that blocked ≥ 2 ms (`perf trace --duration 2`, timestamps on CLOCK_MONOTONIC mapped to wall time).
 *
 *   npx tsx scripts/bench/openLoopStalls.ts [--root DIR] [--windows 3] [--ms 5000] [--rate N] [--env K=V,K=V] [--threshold 5]
 */
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
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
const dir = mkdtempSync(path.join(tmpdir(), 'bursar-stalls-'))
const files = { gc: path.join(dir, 'gc.jsonl'), loop: path.join(dir, 'loop.jsonl') }
const threshold = Number(arg('threshold') ?? 5)
const extraEnv = arg('env') ? Object.fromEntries(arg('env')!.split(',').map((kv) => kv.split('=') as [string, string])) : {}
// Every process of the run (enclave, host, load generator) loads both probes.
process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} --import=${path.join(here, 'gcTrace.mjs')} --import=${path.join(here, 'loopDelay.mjs')}`
Object.assign(process.env, { BURSAR_GC_FILE: files.gc, BURSAR_LOOP_DELAY_FILE: files.loop, BURSAR_LOOP_DELAY_EVERY_MS: '100' })
const s = await startStack({ root: arg('root') ? path.resolve(arg('root')!) : undefined, env: extraEnv })
const started = Date.now()
const load = await LoadGenerator.start()
const seals = new Map<string, { at: number; wallet: string; bytes: number }>()
const hostSyscalls: Event[] = []
const pids = { enclave: s.enclave.pid!, host: s.host.pid!, agent: load.pid }
try {
  const agents = await setupBenchAgents({ url: s.url, owner: privateKeyToAccount(generatePrivateKey()), wallets: 4, agentsPerWallet: 16 })
  await new Promise((r) => setTimeout(r, Math.max(0, started + 2_200 - Date.now())))
  await load.run({ url: s.url, agents, concurrency: 8, requests: 0, auth: 'session' })
  const rates: number[] = []
  for (let w = 0; w < Number(arg('windows') ?? 3); w++) {
    const r = await load.run({ url: s.url, agents, concurrency: 64, warmupMs: 1500, durationMs: Number(arg('ms') ?? 5000), auth: 'session' })
    rates.push(r.opsPerSec)
    console.log(`c=64 window ${w + 1}: ${r.opsPerSec} ops/s, p99 ${r.latencyMs.p99} ms (load ${loadavg()[0]!.toFixed(2)})`)
  }
  const rate = Number(arg('rate') ?? Math.round(0.5 * [...rates].sort((a, b) => a - b)[rates.length >> 1]!))
  // The host's sealed blobs as they are stored (it keeps 5 versions per wallet: poll, do not read at the end).
  const db = new Database(path.join(s.dataDir, 'bursar.db'), { readonly: true, fileMustExist: true })
  const poll = setInterval(() => {
    try {
      for (const row of db.prepare('SELECT wallet, version, stored_at AS at, length(blob) AS bytes FROM snapshots').all() as Array<{ wallet: string; version: number; at: number; bytes: number }>)
        seals.set(`${row.wallet}:${row.version}`, { at: row.at, wallet: row.wallet === '' ? 'core' : row.wallet.slice(0, 8), bytes: row.bytes })
    } catch {}
  }, 100)
  const perfFile = path.join(dir, 'perf.txt')
  const monoToWall = Date.now() - Number(process.hrtime.bigint()) / 1e6
  const perf = spawn('perf', ['trace', '-T', '--duration', '2', '-o', perfFile, '-e', 'fsync,fdatasync,pwrite64,pread64,write,writev,read', '-p', String(pids.host)], { stdio: 'ignore' })
  perf.on('error', () => {}) // no perf: the report says so
  const r = await load.run({ url: s.url, agents, concurrency: 64, warmupMs: 1500, durationMs: Number(arg('ms') ?? 5000), ratePerSec: rate, auth: 'session', timeline: true })
  perf.kill('SIGINT')
  await new Promise((res) => (perf.exitCode !== null || perf.pid === undefined ? res(null) : perf.once('exit', res)))
  hostSyscalls.push(...blockedSyscalls(perfFile, monoToWall, pids.host))
  clearInterval(poll)
  db.close()
  await new Promise((res) => setTimeout(res, 1200)) // the probes flush every 100 ms / 1 s
  const l = r.latencyMs
  console.log(`open loop ${rate}/s: ${r.opsPerSec} ops/s, p50 ${l.p50} ms, p90 ${l.p90} ms, p99 ${l.p99} ms, p99.9 ${l.p999} ms, max ${l.max} ms, failed ${r.failed} (load ${loadavg()[0]!.toFixed(2)}); the generator's own send lateness p50 ${r.sendLateMs?.p50} / p99 ${r.sendLateMs?.p99} / max ${r.sendLateMs?.max} ms`)
  report(r.timeline!, l.p99)
} finally {
  await load.close()
  await s.stop()
}

type Event = { kind: string; from: number; to: number; label: string }

function report(timeline: Array<[number, number]>, p99: number): void {
  const t0 = Math.min(...timeline.map(([t]) => t))
  const t1 = Math.max(...timeline.map(([t, ms]) => t + ms))
  const name = Object.fromEntries(Object.entries(pids).map(([k, v]) => [v, k]))
  const events: Event[] = []
  for (const line of readFileSync(files.gc, 'utf8').trim().split('\n')) {
    const g = JSON.parse(line) as { pid: number; at: number; ms: number; kind: string }
    if (g.at + g.ms < t0 || g.at > t1 || !name[g.pid] || g.ms < 0.5) continue
    events.push({ kind: `${name[g.pid]} GC ${g.kind}`, from: g.at, to: g.at + g.ms, label: `${name[g.pid]} ${g.kind} GC ${g.ms.toFixed(1)} ms` })
  }
  for (const line of readFileSync(files.loop, 'utf8').trim().split('\n')) {
    const d = JSON.parse(line) as { pid: number; t: number; max: number }
    if (d.t < t0 || d.t - 100 > t1 || !name[d.pid] || d.max < threshold) continue
    events.push({ kind: `${name[d.pid]} loop blocked ≥ ${threshold} ms`, from: d.t - 100, to: d.t, label: `${name[d.pid]} loop delay max ${d.max} ms` })
  }
  // A seal is the enclave's work before the host stores it: count the 150 ms before its stored_at.
  const byTime = new Map<number, Array<{ wallet: string; bytes: number }>>()
  for (const x of seals.values()) if (x.at >= t0 && x.at - 150 <= t1) byTime.set(x.at, [...(byTime.get(x.at) ?? []), x])
  for (const [at, xs] of byTime) events.push({ kind: 'seal stored', from: at - 150, to: at, label: `seal ${xs.map((x) => `${x.wallet} ${(x.bytes / 1024).toFixed(0)} KB`).join(' + ')}` })
  events.push(...hostSyscalls.filter((e) => e.to >= t0 && e.from <= t1))
  if (hostSyscalls.length === 0) console.log('(no host syscalls ≥ 2 ms recorded: perf missing, or none blocked)')
  const slow = timeline.filter(([, ms]) => ms > threshold).sort((a, b) => a[0] - b[0])
  // Episodes: slow requests whose [start, end] overlap.
  const episodes: Array<{ from: number; to: number; n: number; max: number }> = []
  for (const [t, ms] of slow) {
    const last = episodes.at(-1)
    if (last && t <= last.to) (last.to = Math.max(last.to, t + ms)), last.n++, (last.max = Math.max(last.max, ms))
    else episodes.push({ from: t, to: t + ms, n: 1, max: ms })
  }
  const overlaps = (from: number, to: number) => events.filter((e) => e.from <= to && e.to >= from)
  console.log(`${timeline.length} requests in the window, ${slow.length} over ${threshold} ms in ${episodes.length} episodes (p99 ${p99} ms); the 12 worst episodes:`)
  for (const e of [...episodes].sort((a, b) => b.max - a.max).slice(0, 12))
    console.log(`  +${((e.from - t0) / 1000).toFixed(2)} s: ${e.n} requests over ${threshold} ms, worst ${e.max.toFixed(1)} ms, episode ${(e.to - e.from).toFixed(0)} ms | ${overlaps(e.from, e.to).map((x) => x.label).join('; ') || 'nothing recorded'}`)
  const tail = timeline.filter(([, ms]) => ms >= p99)
  const kinds = [...new Set(events.map((e) => e.kind))].sort()
  console.log(`the ${tail.length} requests at or over the p99 (${p99} ms), share each kind of event overlapped (events in the window: count, total ms):`)
  for (const k of kinds) {
    const mine = events.filter((e) => e.kind === k)
    const hit = tail.filter(([t, ms]) => mine.some((e) => e.from <= t + ms && e.to >= t)).length
    console.log(`  ${k.padEnd(34)} ${((100 * hit) / Math.max(1, tail.length)).toFixed(0).padStart(4)} %   (${mine.length}, ${mine.reduce((n, e) => n + e.to - e.from, 0).toFixed(0)} ms)`)
  }
  const none = tail.filter(([t, ms]) => !events.some((e) => e.from <= t + ms && e.to >= t)).length
  console.log(`  ${'none of these'.padEnd(34)} ${((100 * none) / Math.max(1, tail.length)).toFixed(0).padStart(4)} %`)
}

/** The host's syscalls that took ≥ 2 ms (perf trace --duration 2 -T): fsyncs by thread, blocked writes and reads. */
function blockedSyscalls(file: string, monoToWall: number, hostPid: number): Event[] {
  if (!existsSync(file)) return []
  const out: Event[] = []
  // "2623055.818 ( 12.040 ms): node/4321 pwrite64(fd: 21, …) = 4096"; an interrupted call: "… ( 12.040 ms): node/4321  ... [continued]: fsync()) = 0"
  const re = /^\s*([\d.]+) \(\s*([\d.]+) ms\): [^/]*\/(\d+) +(?:\.\.\. \[continued\]: )?(\w+)\(/
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = re.exec(line)
    if (!m) continue
    const [from, ms, tid, name] = [Number(m[1]) + monoToWall, Number(m[2]), Number(m[3]), m[4]!]
    const who = tid === hostPid ? 'host thread' : 'host worker'
    const kind = name === 'fsync' || name === 'fdatasync' ? `${who} fsync` : `${who} ${name} blocked ≥ 2 ms`
    out.push({ kind, from, to: from + ms, label: `${who} ${name} ${ms.toFixed(1)} ms` })
  }
  return out
}
