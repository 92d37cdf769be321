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
 * lat35: every request of the window is also joined (by agent and nonce) with what the stack stored about it — the
 * enclave's decision time (its audit entry's `time`, taken in the writer), its turn's checkpoint time (taken when the
 * turn's blocks are signed, after the writer's sealTx), the host's `decided_at` (answer frame read and parsed) and
 * `fetched_at` (answer handed to the agent's socket) — so each slow request is split into the step it was late in:
 * generator send, agent → host → enclave writer, writer (decide, audit, seal), turn end → host (checkpoint
 * signature, release, answer frame), host commit + HTTP answer, → agent. Stamps are whole ms (Date.now) except the
 * generator's; the probes of the events beside stay as above. `--no-perf` leaves only the host's fsync/fdatasync
 * trace (a few dozen events a window), not the ≥ 2 ms trace of its reads and writes.
 *
 *
 * tail41: the p99+ requests as a table (one row each: every hop's ms and what ran beside its largest hop), a host
 * commit that stored a seal as its own kind, and a per-kind stall table (count per s, median / p90 / max, ms per s).
 * The host's hops come from its `bursar.hop` probe (sub-ms, the same clock): sent → forwarded (`hostIn`: HTTP,
 * admission), → the enclave's decision (`toWriter`), → its turn (`writer`), → the answer frame read (`toHost`), →
 * committed (`commit`), → the agent (`reply`); the enclave's two stamps stay whole ms.
 *
 * tail42: each frame's four socket crossings (gcTrace.mjs's wire rows, $BURSAR_WIRE_TRACE: every unix-socket write and
 * read of host and enclave with the frame ids in it; `--no-wire` leaves them out) split the host's forward and the
 * answer's way back: forwarded → the host's write (`hostOut`: its cork) → the enclave's read (`toEnclave`) → decision
 * (`toWriter`) → turn (`writer`) → **the enclave's write of the answer (`release`: signature, in-order release, cork)**
 * → the host's read (`wire`: the socket, the host's loop) → the gateway has it (`hostParse`) → committed → agent.
 * Writes that left bytes queued in libuv (the peer not reading) are counted.
 *
 *   npx tsx scripts/bench/openLoopStalls.ts [--root DIR] [--windows 3] [--ms 5000] [--rate N] [--env K=V,K=V] [--threshold 5] [--no-perf] [--no-loop] [--open-ms N] [--enclave-args F,F] [--rows 25] [--no-wire]
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
/** lat35: the steps of a request (declared before the top-level await that uses them). */
// tail41: `hostIn` (sent → the host forwards the frame) and `commit` (answer frame read → committed) from the host's
// `bursar.hop` probe (sub-ms); `reply` the committed answer to the agent. A build without the probe (--root): hostIn 0,
// toWriter from the send, toHost to `decided_at`, commit to `fetched_at` (the old commitReply), reply the rest.
// tail42: `toHost` split into `release` (turn → the enclave's write of the answer), `wire` (→ the host's read) and
// `hostParse` (→ the gateway has it); `hostOut` and `toEnclave` split the old `toWriter` (wire rows; 0 without them).
const STEPS = ['send', 'hostIn', 'hostOut', 'toEnclave', 'toWriter', 'writer', 'release', 'wire', 'hostParse', 'commit', 'reply'] as const
type Step = (typeof STEPS)[number]
/** Whose loop / GC an overlapping event must belong to for the step to be charged to it. */
const STEP_OWNERS: Record<Step, string[]> = { send: ['agent'], hostIn: ['host', 'agent'], hostOut: ['host'], toEnclave: ['enclave', 'host'], toWriter: ['enclave'], writer: ['enclave', 'seal'], release: ['enclave'], wire: ['host', 'enclave'], hostParse: ['host'], commit: ['host'], reply: ['agent', 'host'] }
const extraEnv = arg('env') ? Object.fromEntries(arg('env')!.split(',').map((kv) => kv.split('=') as [string, string])) : {}
// Every process of the run (enclave, host, load generator) loads both probes.
// `--no-loop`: without the loop-delay probe (its 1 ms timer wakes each process 1,000 times a second).
process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} --import=${path.join(here, 'gcTrace.mjs')}${process.argv.includes('--no-loop') ? '' : ` --import=${path.join(here, 'loopDelay.mjs')}`}`
Object.assign(process.env, { BURSAR_GC_FILE: files.gc, BURSAR_LOOP_DELAY_FILE: files.loop, BURSAR_LOOP_DELAY_EVERY_MS: '100' }, process.argv.includes('--no-wire') ? {} : { BURSAR_WIRE_TRACE: '1' })
const s = await startStack({ root: arg('root') ? path.resolve(arg('root')!) : undefined, env: extraEnv, enclaveNodeArgs: arg('enclave-args')?.split(',') ?? [] })
const started = Date.now()
const load = await LoadGenerator.start()
const seals = new Map<string, { at: number; wallet: string; bytes: number }>()
const hostSyscalls: Event[] = []
const schedBins: Array<{ who: string; t: number; on: number; wait: number }> = []
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
  // lat35: each main thread's time on a CPU and waiting for one (runnable, not running: the machine's other work) per 100 ms.
  const sched = (pid: number) => { try { const [on, wait] = readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').split(' ').map(Number); return [on! / 1e6, wait! / 1e6] } catch { return [0, 0] } }
  let lastSched = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, sched(pid)]))
  const schedPoll = setInterval(() => {
    const now = Date.now()
    for (const [k, pid] of Object.entries(pids)) {
      const [on, wait] = sched(pid), [on0, wait0] = lastSched[k]!
      schedBins.push({ who: k, t: now, on: on! - on0!, wait: wait! - wait0! })
      lastSched[k] = [on!, wait!]
    }
  }, 100)
  const perfFile = path.join(dir, 'perf.txt')
  const monoToWall = Date.now() - Number(process.hrtime.bigint()) / 1e6
  const perf = process.argv.includes('--no-perf') ? spawn('true') : spawn('perf', ['trace', '-T', '--duration', '2', '-o', perfFile, '-e', 'fsync,fdatasync,pwrite64,pread64,write,writev,read', '-p', String(pids.host)], { stdio: 'ignore' })
  perf.on('error', () => {}) // no perf: the report says so
  // lat35: every fsync of the host (any length) with its thread: the writer's own (a WAL restart syncs the new header) vs the checkpoint worker's.
  const fsyncFile = path.join(dir, 'fsync.txt')
  const fsyncPerf = spawn('perf', ['trace', '-T', '-o', fsyncFile, '-e', 'fsync,fdatasync', '-p', String(pids.host)], { stdio: 'ignore' })
  fsyncPerf.on('error', () => {})
  const r = await load.run({ url: s.url, agents, concurrency: 64, warmupMs: 1500, durationMs: Number(arg('open-ms') ?? arg('ms') ?? 5000), ratePerSec: rate, auth: 'session', timeline: true, trace: true })
  perf.kill('SIGINT')
  await new Promise((res) => (perf.exitCode !== null || perf.pid === undefined ? res(null) : perf.once('exit', res)))
  fsyncPerf.kill('SIGINT')
  await new Promise((res) => (fsyncPerf.exitCode !== null || fsyncPerf.pid === undefined ? res(null) : fsyncPerf.once('exit', res)))
  const fsyncs = blockedSyscalls(fsyncFile, monoToWall, pids.host)
  for (const who of ['host thread', 'host worker']) {
    const mine = fsyncs.filter((e) => e.kind.startsWith(who)).map((e) => e.to - e.from).sort((a, b) => a - b)
    console.log(`${who} fsyncs during the open-loop call: ${mine.length}, total ${mine.reduce((n, x) => n + x, 0).toFixed(0)} ms, median ${(mine[mine.length >> 1] ?? 0).toFixed(2)} ms, p90 ${(mine[Math.floor(mine.length * 0.9)] ?? 0).toFixed(2)} ms, max ${(mine.at(-1) ?? 0).toFixed(1)} ms`)
  }
  hostSyscalls.push(...fsyncs.filter((e) => e.kind.startsWith('host thread')).map((e) => ({ ...e, kind: 'host thread fsync (any length)' })))
  hostSyscalls.push(...blockedSyscalls(perfFile, monoToWall, pids.host))
  clearInterval(poll)
  clearInterval(schedPoll)
  await new Promise((res) => setTimeout(res, 1200)) // the probes flush every 100 ms / 1 s (tail42: before the hops are read)
  const stamps = storedStamps(db, r.trace!)
  db.close()
  const l = r.latencyMs
  console.log(`open loop ${rate}/s: ${r.opsPerSec} ops/s, p50 ${l.p50} ms, p90 ${l.p90} ms, p99 ${l.p99} ms, p99.9 ${l.p999} ms, max ${l.max} ms, failed ${r.failed} (load ${loadavg()[0]!.toFixed(2)}); the generator's own send lateness p50 ${r.sendLateMs?.p50} / p99 ${r.sendLateMs?.p99} / max ${r.sendLateMs?.max} ms`)
  report(r.timeline!, l.p99)
  segments(stamps, l.p99)
  releases(r.timeline!)
} finally {
  await load.close()
  await s.stop()
}

type Event = { kind: string; from: number; to: number; label: string }

/** tail41: a probe row's kind; a host commit that stored a seal apart from the others. */
function evKind(g: { ev?: string; snapshotBytes?: number }): string {
  if (g.ev === 'commit') return g.snapshotBytes ? 'commit with a seal' : 'commit ≥ 1 ms'
  return g.ev === 'writer turn' ? 'writer turn ≥ 1 ms' : g.ev!
}

function report(timeline: Array<[number, number]>, p99: number): void {
  const t0 = Math.min(...timeline.map(([t]) => t))
  const t1 = Math.max(...timeline.map(([t, ms]) => t + ms))
  const name = Object.fromEntries(Object.entries(pids).map(([k, v]) => [v, k]))
  const events: Event[] = []
  for (const line of readFileSync(files.gc, 'utf8').trim().split('\n')) {
    const g = JSON.parse(line) as { pid: number; at: number; ms: number; kind: string; ev?: string; entries?: number; blocks?: number; snapshotBytes?: number }
    if (g.ev === 'hop' || g.ev === 'wire') continue
    if (g.at + g.ms < t0 || g.at > t1 || !name[g.pid] || g.ms < 0.5 || (g.ev === 'writer turn' && g.ms < 1)) continue
    // tail39: the enclave's seal capture / encryption and the host's commits ≥ 1 ms (gcTrace.mjs's diagnostics channels).
    // tail41: a commit that stored a sealed snapshot is its own kind (with the blobs' KB and the entries it carried).
    if (g.ev) events.push({ kind: `${name[g.pid]} ${evKind(g)}`, from: g.at, to: g.at + g.ms, label: `${name[g.pid]} ${g.ev} ${g.ms.toFixed(1)} ms${g.entries ? ` (${g.entries} entries)` : ''}${g.blocks ? ` (${g.blocks} blocks)` : ''}${g.snapshotBytes ? ` (seal ${(g.snapshotBytes / 1024).toFixed(0)} KB)` : ''}` })
    else events.push({ kind: `${name[g.pid]} GC ${g.kind}`, from: g.at, to: g.at + g.ms, label: `${name[g.pid]} ${g.kind} GC ${g.ms.toFixed(1)} ms` })
  }
  for (const line of (existsSync(files.loop) ? readFileSync(files.loop, 'utf8') : '').trim().split('\n').filter(Boolean)) {
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
  // lat35: each process's GC pauses in the window by kind: count, median, max (ms).
  const pauses = new Map<string, number[]>()
  for (const e of events) if (/ GC | seal |commit|writer turn/.test(e.kind)) pauses.set(e.kind, [...(pauses.get(e.kind) ?? []), e.to - e.from])
  console.log(`GC pauses ≥ 0.5 ms, seal steps, writer turns and commits ≥ 1 ms in the window: ${[...pauses].sort().map(([k, xs]) => { xs.sort((a, b) => a - b); return `${k} ${xs.length} (median ${xs[xs.length >> 1]!.toFixed(1)}, max ${xs.at(-1)!.toFixed(1)} ms)` }).join('; ')}`)
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

/** lat35: a request's steps (ms), from the generator's stamps and those the stack stored. */
type Stamped = { at: number; ms: number; steps: Record<Step, number>; spans: Record<Step, [number, number]> }

function storedStamps(db: Database.Database, trace: NonNullable<Awaited<ReturnType<LoadGenerator['run']>>['trace']>): Stamped[] {
  // host38 (SQLite migration 9): a checkpoint is found by its rowid (chain number × 2^40 + seq), no longer a (chain, seq) index.
  const ckey = db.prepare("SELECT 1 FROM pragma_table_info('audit_checkpoints') WHERE name = 'ckey'").get() !== undefined
  const cpJoin = ckey
    ? `LEFT JOIN chain_ids k ON k.chain = e.chain LEFT JOIN audit_checkpoints c ON c.ckey = k.id * ${2 ** 40} + a.audit_seq`
    : 'LEFT JOIN audit_checkpoints c ON c.chain = e.chain AND c.seq = a.audit_seq'
  const q = db.prepare(`SELECT a.decided_at AS decided, a.fetched_at AS fetched, e.time AS decide, c.time AS turn FROM agent_answers a
    JOIN audit_entries e ON e.chain = COALESCE(a.entry_chain, '') AND e.seq = a.audit_seq
    ${cpJoin} WHERE a.agent_id = ? AND a.nonce = ?`)
  // tail41: the host's sub-ms hops by agent and nonce (gcTrace.mjs's `bursar.hop` rows), when the build has the probe.
  const hops = new Map<string, { id?: number; forward: number; answered: number; stored: number }>()
  // tail42: each frame id's first write and read by each process (host out / enclave in for requests, enclave out /
  // host in for answers), and the enclave's answer writes that left bytes queued (the host not reading).
  const wire = new Map<string, number>()
  const writes = { enclave: [] as Array<{ at: number; ms: number; frames: number; queued: number }>, host: [] as Array<{ at: number; ms: number; frames: number; queued: number }> }
  for (const line of readFileSync(files.gc, 'utf8').trim().split('\n')) {
    if (line.includes('"ev":"wire"')) {
      const w = JSON.parse(line) as { pid: number; dir: 'in' | 'out'; at: number; ms?: number; ids: number[]; queued?: number }
      const who = w.pid === pids.enclave ? 'enclave' : w.pid === pids.host ? 'host' : null
      if (!who) continue
      for (const id of w.ids) if (!wire.has(`${who} ${w.dir} ${id}`)) wire.set(`${who} ${w.dir} ${id}`, w.at)
      if (w.dir === 'out') writes[who].push({ at: w.at, ms: w.ms ?? 0, frames: w.ids.length, queued: w.queued ?? 0 })
      continue
    }
    if (!line.includes('"ev":"hop"')) continue
    const h = JSON.parse(line) as { agentId: string; nonce: string; id?: number; forward: number; answered: number; stored: number }
    hops.set(`${h.agentId} ${h.nonce}`, h)
  }
  const tw0 = Math.min(...trace.map((t) => t.at)), tw1 = Math.max(...trace.map((t) => t.at + t.ms))
  for (const who of ['enclave', 'host'] as const) {
    const ws = writes[who].filter((x) => x.at >= tw0 && x.at <= tw1), ms = ws.map((w) => w.ms).sort((a, b) => a - b), f = ws.map((w) => w.frames).sort((a, b) => a - b)
    if (ws.length) console.log(`${who} socket writes in the open-loop window: ${ws.length}, frames per write median ${f[f.length >> 1]} / max ${f.at(-1)}, write call median ${ms[ms.length >> 1]!.toFixed(3)} / max ${ms.at(-1)!.toFixed(1)} ms, ${ws.filter((w) => w.queued > 0).length} left bytes queued (peer not reading), max queued ${Math.max(...ws.map((w) => w.queued))} B`)
  }
  const out: Stamped[] = []
  for (const t of trace) {
    const row = q.get(t.agentId, t.nonce) as { decided: number; fetched: number | null; decide: number; turn: number | null } | undefined
    if (!row || row.turn === null) continue
    const end = t.at + t.ms
    const fetched = row.fetched ?? end
    const h = hops.get(`${t.agentId} ${t.nonce}`)
    const w = (k: string) => (h?.id !== undefined ? wire.get(`${k} ${h.id}`) : undefined)
    const marks = h
      ? [t.at, t.sent, h.forward, w('host out') ?? h.forward, w('enclave in') ?? h.forward, row.decide, row.turn, w('enclave out') ?? h.answered, w('host in') ?? h.answered, h.answered, h.stored, end]
      : [t.at, t.sent, t.sent, t.sent, t.sent, row.decide, row.turn, row.decided, row.decided, row.decided, fetched, end]
    const steps = {} as Record<Step, number>, spans = {} as Record<Step, [number, number]>
    STEPS.forEach((k, i) => ((steps[k] = marks[i + 1]! - marks[i]!), (spans[k] = [marks[i]!, marks[i + 1]!])))
    out.push({ at: t.at, ms: t.ms, steps, spans })
  }
  return out
}

/** Which step the slow requests were late in, and what overlapped that step in its owner process. */
function segments(stamped: Stamped[], p99: number): void {
  if (stamped.length === 0) return console.log('(no request joined with its stored stamps)')
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1] ?? Number.NaN
  const base = Object.fromEntries(STEPS.map((k) => [k, med(stamped.map((x) => x.steps[k]))])) as Record<Step, number>
  const name = Object.fromEntries(Object.entries(pids).map(([k, v]) => [v, k]))
  const events = readEvents(name)
  const groups: Array<[string, Stamped[]]> = [[`over ${threshold} ms`, stamped.filter((x) => x.ms > threshold)], [`at or over the p99 (${p99} ms)`, stamped.filter((x) => x.ms >= p99)]]
  const t0 = Math.min(...stamped.map((x) => x.at)), t1 = Math.max(...stamped.map((x) => x.at + x.ms))
  const inWin = schedBins.filter((b) => b.t >= t0 && b.t <= t1)
  console.log(`main threads in the window (schedstat, 100 ms bins): ${Object.keys(pids).map((k) => { const bs = inWin.filter((b) => b.who === k); const sum = (f: (b: (typeof bs)[number]) => number) => bs.reduce((n, b) => n + f(b), 0); return `${k} on CPU ${((100 * sum((b) => b.on)) / Math.max(1, 100 * bs.length)).toFixed(0)} %, waiting for a CPU ${sum((b) => b.wait).toFixed(0)} ms (bins ≥ 2 ms: ${bs.filter((b) => b.wait >= 2).length} of ${bs.length})` }).join('; ')}`)
  console.log(`steps of the ${stamped.length} requests joined with their stamps (ms; the enclave's decision and turn stamps whole ms): median of each step ${STEPS.map((k) => `${k} ${base[k].toFixed(1)}`).join(', ')}`)
  for (const [label, xs] of groups) {
    if (xs.length === 0) continue
    const excess = Object.fromEntries(STEPS.map((k) => [k, xs.reduce((n, x) => n + Math.max(0, x.steps[k] - base[k]), 0)])) as Record<Step, number>
    const total = STEPS.reduce((n, k) => n + excess[k], 0)
    console.log(`  the ${xs.length} requests ${label}: mean latency ${(xs.reduce((n, x) => n + x.ms, 0) / xs.length).toFixed(1)} ms; each step's excess over its median, share of all excess (mean ms per request):`)
    for (const k of STEPS) {
      const mine = xs.filter((x) => STEPS.every((j) => x.steps[j] - base[j] <= x.steps[k] - base[k]))
      // Of the requests this step dominated: what overlapped the step's own span in its owner processes.
      const kinds = new Map<string, number>()
      for (const x of mine) for (const kind of new Set(events.filter((e) => STEP_OWNERS[k].some((o) => e.kind.startsWith(o)) && e.from <= x.spans[k][1] && e.to >= x.spans[k][0]).map((e) => e.kind))) kinds.set(kind, (kinds.get(kind) ?? 0) + 1)
      const beside = [...kinds].sort((a, b) => b[1] - a[1]).slice(0, 5).map(([kind, n]) => `${kind} ${Math.round((100 * n) / mine.length)} %`).join(', ')
      console.log(`    ${k.padEnd(12)} ${((100 * excess[k]) / Math.max(1e-9, total)).toFixed(0).padStart(4)} %  (${(excess[k] / xs.length).toFixed(1).padStart(5)} ms)  largest in ${String(mine.length).padStart(4)}${mine.length ? `; beside it: ${beside || 'nothing recorded'}` : ''}`)
    }
  }
  // tail41: the table for the p99+ requests, one row each (worst first): each hop's ms and, in the hop that was
  // furthest over its median, what ran in its owner processes meanwhile (probe events: GC ms, commit ms/entries/seal
  // KB, writer turn ms; CPU waits and loop delay bins by name). Stamps are whole ms except the generator's send.
  const worst = stamped.filter((x) => x.ms >= p99).sort((a, b) => b.ms - a.ms).slice(0, Number(arg('rows') ?? 25))
  console.log(`the ${worst.length} worst requests (at or over the p99 ${p99} ms): +s from the window's start, ms, each hop's ms (${STEPS.join(' / ')}), and beside its largest hop:`)
  for (const x of worst) {
    const k = STEPS.reduce((a, b) => (x.steps[b] - base[b] > x.steps[a] - base[a] ? b : a))
    const [from, to] = x.spans[k]
    const beside = new Map<string, string[]>()
    for (const e of events) if (STEP_OWNERS[k].some((o) => e.kind.startsWith(o)) && e.from <= to && e.to >= from) beside.set(e.kind, [...(beside.get(e.kind) ?? []), e.label])
    const what = [...beside].map(([kind, ls]) => `${kind}${ls.some(Boolean) ? ` ${ls.filter(Boolean).slice(0, 4).join(',')}` : ''}${ls.length > 1 ? ` ×${ls.length}` : ''}`).join('; ')
    const [turnAt, answeredAt] = [x.spans.release[0], x.spans.hostParse[1]]
    // Answers the host read while this one was on its way from its turn, and how many of them the enclave decided after
    // this one: > 0 means the host was reading and a later decision's answer overtook this one.
    const meanwhile = stamped.filter((y) => y !== x && y.spans.hostParse[1] > turnAt + 1 && y.spans.hostParse[1] < answeredAt - 1)
    const later = meanwhile.filter((y) => y.spans.writer[0] > x.spans.writer[0]).length
    const overtaken = ` {host read ${meanwhile.length} other answers meanwhile, ${later} decided after this one}`
    console.log(`  +${((x.at - t0) / 1000).toFixed(2).padStart(6)} ${x.ms.toFixed(1).padStart(6)} | ${STEPS.map((j) => x.steps[j].toFixed(1).padStart(5)).join(' ')} | ${k}: ${what || 'nothing recorded'}${overtaken}`)
  }
  // tail41: what stalled the processes in the window, per second: each kind's count, median, p90, max and ms per s.
  const secs = Math.max(1e-3, (t1 - t0) / 1000)
  const kinds = new Map<string, number[]>()
  for (const e of events) if (e.from >= t0 && e.to <= t1 && !/waited for a CPU|loop delay|seal stored/.test(e.kind)) kinds.set(e.kind, [...(kinds.get(e.kind) ?? []), e.to - e.from])
  console.log(`stalls in the window (${secs.toFixed(1)} s), per kind: count per s, median / p90 / max ms, ms per s of that thread:`)
  for (const [kind, xs] of [...kinds].sort((a, b) => b[1].reduce((n, v) => n + v, 0) - a[1].reduce((n, v) => n + v, 0))) {
    xs.sort((a, b) => a - b)
    console.log(`  ${kind.padEnd(40)} ${(xs.length / secs).toFixed(2).padStart(7)}/s  ${xs[xs.length >> 1]!.toFixed(1).padStart(6)} / ${xs[Math.floor(xs.length * 0.9)]!.toFixed(1).padStart(6)} / ${xs.at(-1)!.toFixed(1).padStart(6)}  ${(xs.reduce((n, v) => n + v, 0) / secs).toFixed(1).padStart(6)} ms/s`)
  }
}

/**
 * tail42: each enclave writer turn's signature (`bursar.writer` turn rows, all of them with the wire trace) → the
 * enclave's next socket write (its answers leave in it or later): how long, and what ran in between — frames read
 * (a poll phase: the next turn's requests decided first), GCs, another turn's signature.
 */
function releases(timeline: Array<[number, number]>): void {
  const t0 = Math.min(...timeline.map(([t]) => t)), t1 = Math.max(...timeline.map(([t, ms]) => t + ms))
  const rows = readFileSync(files.gc, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { pid: number; ev?: string; dir?: string; at: number; ms: number; kind?: string; ids?: number[]; blocks?: number })
  const enc = rows.filter((g) => g.pid === pids.enclave)
  const writes = enc.filter((g) => g.ev === 'wire' && g.dir === 'out').map((g) => g.at).sort((a, b) => a - b)
  const reads = enc.filter((g) => g.ev === 'wire' && g.dir === 'in').map((g) => ({ at: g.at, frames: g.ids?.length ?? 0 }))
  const gcs = enc.filter((g) => !g.ev && g.ms >= 0.5)
  const turns = enc.filter((g) => g.ev === 'writer turn').map((g) => ({ signed: g.at + g.ms, ms: g.ms, blocks: g.blocks ?? 0 })).filter((x) => x.signed >= t0 && x.signed <= t1).sort((a, b) => a.signed - b.signed)
  if (writes.length === 0 || turns.length === 0) return console.log('(no wire rows: run without --no-wire on a build with the writer probe)')
  const out = turns.map((x, i) => {
    const w = writes.find((at) => at >= x.signed) ?? Number.NaN
    const between = reads.filter((r) => r.at > x.signed && r.at < w)
    return { ...x, gap: w - x.signed, reads: between.length, frames: between.reduce((n, r) => n + r.frames, 0), gc: gcs.filter((g) => g.at < w && g.at + g.ms > x.signed).reduce((n, g) => n + g.ms, 0), nextTurn: turns[i + 1] !== undefined && turns[i + 1]!.signed < w }
  }).filter((x) => Number.isFinite(x.gap))
  const q = (xs: number[], f: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * f))]!
  const gaps = out.map((x) => x.gap)
  console.log(`turn signed → the enclave's next write (${out.length} turns, ${(out.length / ((t1 - t0) / 1000)).toFixed(0)}/s): median ${q(gaps, 0.5).toFixed(2)}, p90 ${q(gaps, 0.9).toFixed(2)}, p99 ${q(gaps, 0.99).toFixed(2)}, max ${q(gaps, 1).toFixed(1)} ms; with frames read in between ${out.filter((x) => x.reads > 0).length} (${(out.filter((x) => x.reads > 0).reduce((n, x) => n + x.gap, 0) / Math.max(1, out.filter((x) => x.reads > 0).length)).toFixed(2)} ms mean) vs none ${out.filter((x) => x.reads === 0).length} (${(out.filter((x) => x.reads === 0).reduce((n, x) => n + x.gap, 0) / Math.max(1, out.filter((x) => x.reads === 0).length)).toFixed(2)} ms mean)`)
  for (const x of [...out].sort((a, b) => b.gap - a.gap).slice(0, 8)) console.log(`  +${((x.signed - t0) / 1000).toFixed(2)} s: ${x.gap.toFixed(1)} ms after a turn of ${x.blocks} blocks (${x.ms.toFixed(1)} ms): ${x.reads} reads / ${x.frames} frames in between, GC ${x.gc.toFixed(1)} ms, next turn signed first: ${x.nextTurn}`)
}

/** GCs (≥ 0.5 ms) and 100 ms bins of loop delay ≥ 2 ms of the three processes, and the stored seals (150 ms before each). */
function readEvents(name: Record<number, string>): Event[] {
  const events: Event[] = []
  for (const line of readFileSync(files.gc, 'utf8').trim().split('\n')) {
    const g = JSON.parse(line) as { pid: number; at: number; ms: number; kind: string; ev?: string; entries?: number; snapshotBytes?: number }
    if (name[g.pid] && g.ev !== 'hop' && g.ev !== 'wire' && g.ms >= 0.5 && (g.ev !== 'writer turn' || g.ms >= 1)) events.push({ kind: `${name[g.pid]} ${g.ev ? evKind(g) : `GC ${g.kind}`}`, from: g.at, to: g.at + g.ms, label: `${g.ms.toFixed(1)}${g.entries ? `/${g.entries}e` : ''}${g.snapshotBytes ? `/${(g.snapshotBytes / 1024).toFixed(0)}KB` : ''}` })
  }
  for (const line of (existsSync(files.loop) ? readFileSync(files.loop, 'utf8') : '').trim().split('\n').filter(Boolean)) {
    const d = JSON.parse(line) as { pid: number; t: number; max: number }
    if (name[d.pid] && d.max >= 2) events.push({ kind: `${name[d.pid]} loop delay ≥ ${d.max >= 10 ? 10 : 2} ms`, from: d.t - 100, to: d.t, label: '' })
  }
  for (const x of seals.values()) if (x.wallet !== 'core') events.push({ kind: 'seal stored (150 ms before)', from: x.at - 150, to: x.at, label: '' })
  events.push(...hostSyscalls)
  for (const b of schedBins) if (b.wait >= 2) events.push({ kind: `${b.who} waited for a CPU ≥ ${b.wait >= 10 ? 10 : 2} ms`, from: b.t - 100, to: b.t, label: '' })
  return events
}
