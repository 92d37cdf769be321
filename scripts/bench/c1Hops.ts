/**
 * Issue 18 (c1-42): where one c = 1 payment's wall time goes, hop by hop, warm (make bench's c = 1 level: a fresh
 * stack of 4 wallets × 16 agents, prewarmed at 64 in flight, then c = 1 with session MACs). Every stamp is on
 * CLOCK_MONOTONIC, which all three processes share: the load generator's own (scheduled, request written, answer
 * parsed), the host's (scripts/bench/hopStamps.mjs: HTTP request start, route entry, frame forwarded, answer frame
 * read, committed, HTTP response finished) and the enclave's writer turn; joined per request by (agent, nonce) and by
 * time (c = 1: one request at a time). `PERF=1`: also `perf trace` of the three processes (syscall tracepoints; its
 * clock is calibrated against CLOCK_MONOTONIC by this process's own writes), splitting the enclave round trip at the
 * enclave's frame read and answer write and the commit at its first and last WAL write. perf adds a few µs per
 * syscall: read the perf run's hops for their split, the plain run's for their size.
 *
 *   npx tsx scripts/bench/c1Hops.ts [root=.] [windowMs=5000] [prewarmMs=5000]
 */
import { spawn } from 'node:child_process'
import { closeSync, mkdtempSync, openSync, readFileSync, readdirSync, writeSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { startStack } from '../lib/startStack.js'
import { LoadGenerator } from './LoadGenerator.js'
import { setupBenchAgents } from './setupBenchAgents.js'
import { procCpu } from './procCpu.js'

const root = path.resolve(process.argv[2] ?? '.')
const windowMs = Number(process.argv[3] ?? 5000)
const prewarmMs = Number(process.argv[4] ?? 5000)
const usePerf = process.env.PERF === '1'
const dir = mkdtempSync(path.join(tmpdir(), 'bursar-c1hops-'))
const hopFile = path.join(dir, 'hops.jsonl')
const perfFile = path.join(dir, 'perf.txt')
const here = path.dirname(fileURLToPath(import.meta.url))
const s = await startStack({ root, env: { BURSAR_HOP_FILE: hopFile }, nodeArgs: ['--import', path.join(here, 'hopStamps.mjs')] })
const started = Date.now()
const load = await LoadGenerator.start()
const pids = { agent: load.pid, host: s.host.pid!, enclave: s.enclave.pid! }
const cpuUs = (pid: number) => {
  const c = procCpu(pid)
  return c.user + c.sys
}
const mono = () => Number(process.hrtime.bigint()) / 1e6
try {
  const agents = await setupBenchAgents({ url: s.url, owner: privateKeyToAccount(generatePrivateKey()), wallets: 4, agentsPerWallet: 16 })
  await new Promise((r) => setTimeout(r, Math.max(0, started + 2_200 - Date.now())))
  await load.run({ url: s.url, agents, concurrency: 8, requests: 0, auth: 'session' })
  if (prewarmMs > 0) await load.run({ url: s.url, agents, concurrency: 64, warmupMs: 0, durationMs: prewarmMs, auth: 'session' })
  let perf: ReturnType<typeof spawn> | null = null
  if (usePerf) {
    perf = spawn('perf', ['trace', '-T', '-o', perfFile, '-e', 'read,write,writev,pwrite64,pread64,fcntl', '-p', [...Object.values(pids), process.pid].join(',')], { stdio: 'ignore' })
    await new Promise((r) => setTimeout(r, 1000))
  }
  const cpu0 = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuUs(pid)]))
  const r = await load.run({ url: s.url, agents, concurrency: 1, warmupMs: 1500, durationMs: windowMs, auth: 'session', trace: true })
  const cpu1 = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuUs(pid)]))
  // perf's clock against CLOCK_MONOTONIC: writes of known lengths to /dev/null, stamped here before each.
  const calib: Array<[number, number]> = []
  if (perf) {
    const fd = openSync('/dev/null', 'w')
    for (let i = 0; i < 20; i++) {
      calib.push([7770 + i, mono()])
      writeSync(fd, 'x'.repeat(7770 + i))
    }
    closeSync(fd)
    await new Promise((res) => setTimeout(res, 300))
    perf.kill('SIGINT')
    await new Promise((res) => perf!.once('exit', res))
  }
  await new Promise((res) => setTimeout(res, 1200)) // the stamp files flush every 500 ms
  const all = r.answeredAll
  console.log(`${path.basename(root)}: c=1 ${r.opsPerSec} ops/s, p50 ${r.latencyMs.p50} ms, p90 ${r.latencyMs.p90} ms, mean ${r.latencyMs.mean} ms (load ${loadavg()[0]!.toFixed(2)}); CPU µs per request ${Object.keys(pids).map((k) => `${k} ${((cpu1[k]! - cpu0[k]!) / all).toFixed(0)}`).join(', ')}`)
  report(r.trace!, r.monoMinusEpochMs!, calib)
} finally {
  await load.close()
  await s.stop()
}

type Row = { pid: number; ev: string; at?: number; ms?: number; agentId?: string; nonce?: string; forward?: number; answered?: number; stored?: number }

function report(trace: NonNullable<Awaited<ReturnType<LoadGenerator['run']>>['trace']>, off: number, calib: Array<[number, number]>): void {
  const rows = readFileSync(hopFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Row)
  const of = (ev: string) => rows.filter((x) => x.ev === ev && x.pid === (ev === 'turn' ? pids.enclave : pids.host)).map((x) => x.at!).sort((a, b) => a - b)
  const [http, route, finish, turns] = [of('http'), of('route'), of('finish'), rows.filter((x) => x.ev === 'turn').sort((a, b) => a.at! - b.at!)]
  const commits = rows.filter((x) => x.ev === 'commit').sort((a, b) => a.at! - b.at!)
  // A build with fastify hook stamps on the route (a local probe, not committed): the HTTP stages by name.
  const STAGES = ['onRequest', 'preParsing', 'preValidation', 'preHandler'] as const
  const stageAt = Object.fromEntries(STAGES.map((k) => [k, of(k)]))
  const onSend = of('onSend')
  const hops = new Map(rows.filter((x) => x.ev === 'hop').map((h) => [`${h.agentId} ${h.nonce}`, h]))
  const lastAtOrBefore = (xs: number[], t: number) => xs.findLast((x) => x <= t)
  const firstAtOrAfter = (xs: number[], t: number) => xs.find((x) => x >= t)
  const sys = usePerf ? perfCalls(calib) : null
  const stages: Record<string, number[]> = {}
  const add = (k: string, v: number | undefined) => v !== undefined && Number.isFinite(v) && (stages[k] ??= []).push(v * 1000)
  let joined = 0
  for (const t of trace) {
    const h = hops.get(`${t.agentId} ${t.nonce}`)
    if (!h) continue
    const [at, sent, end] = [t.at + off, t.sent + off, t.at + t.ms + off]
    const [hs, rt, fin] = [lastAtOrBefore(http, h.forward!), lastAtOrBefore(route, h.forward!), firstAtOrAfter(finish, h.stored!)]
    if (hs === undefined || fin === undefined || hs < at || fin > end) continue
    // A build without the route's stamp (before c1-42): c and d are one hop.
    const routed = rt !== undefined && rt >= hs
    const turn = turns.find((x) => x.at! >= h.forward! && x.at! <= h.answered!)
    joined++
    add('a generator: build + send (scheduled → request written)', sent - at)
    add('b → host HTTP request start (wake-up, read, headers)', hs - sent)
    if (routed) {
      add('c host: body, JSON parse, zod → route entry', rt - hs)
      add('d host pre-checks (ids, request hash, slots) → forward', h.forward! - rt)
    }
    add('c+d host: HTTP request start → frame forwarded', h.forward! - hs)
    if (routed && stageAt.onRequest!.length > 0) {
      const marks = [hs, ...STAGES.map((k) => lastAtOrBefore(stageAt[k]!, rt!)), rt]
      if (marks.every((m) => m !== undefined && m >= hs))
        for (let i = 0; i + 1 < marks.length; i++) add(`  c${i + 1} ${['http', ...STAGES, 'route'][i]} → ${[...STAGES, 'route'][i]}`, marks[i + 1]! - marks[i]!)
    }
    add('e frame out → answer frame read (enclave round trip)', h.answered! - h.forward!)
    if (turn) {
      add('  e1 forward → enclave writer turn start', turn.at! - h.forward!)
      add('  e2 enclave writer turn (decide, sign, audit; to its checkpoint signing)', turn.ms!)
      add('  e3 turn end → answer frame read by the host', h.answered! - turn.at! - turn.ms!)
    }
    add('f answer read → committed (checks, answer text, SQLite commit)', h.stored! - h.answered!)
    const commit = commits.find((x) => x.at! >= h.answered! && x.at! <= h.stored!)
    if (commit) {
      add('  f1 answer read → commit start (result check, audit entry, answer text, one loop turn)', commit.at! - h.answered!)
      add('  f2 the commit (persistMany: statements, WAL frames)', commit.ms!)
      add('  f3 commit end → committed (promise hops)', h.stored! - commit.at! - commit.ms!)
    }
    add('g committed → HTTP response finished (reply)', fin - h.stored!)
    const sendAt = firstAtOrAfter(onSend, h.stored!)
    if (sendAt !== undefined && sendAt <= fin) {
      add('  g1 committed → onSend (call returns, answer text, reply)', sendAt - h.stored!)
      add('  g2 onSend → finished (headers, writev)', fin - sendAt)
    }
    add('h → generator has the answer (wake-up, read, parse, check)', end - fin)
    add('= scheduled → answer (the latency)', end - at)
    if (sys) {
      const agentW = sys.find((c) => c.proc === 'agent' && (c.name === 'write' || c.name === 'writev') && c.t >= at && c.t <= hs)
      const hostRead = sys.findLast((c) => c.proc === 'host' && c.name === 'read' && c.t >= sent - 0.02 && c.t <= hs)
      const frameW = sys.find((c) => c.proc === 'host' && c.main && c.name === 'write' && c.t >= h.forward! && c.t <= h.answered!)
      const eRead = sys.find((c) => c.proc === 'enclave' && c.main && c.name === 'read' && c.ret > 0 && c.t >= h.forward! && c.t <= h.answered!)
      const eWrite = sys.findLast((c) => c.proc === 'enclave' && c.main && (c.name === 'write' || c.name === 'writev') && c.t >= h.forward! && c.t <= h.answered!)
      const ansRead = sys.findLast((c) => c.proc === 'host' && c.main && c.name === 'read' && c.ret > 0 && c.t <= h.answered!)
      const wal = sys.filter((c) => c.proc === 'host' && c.main && c.name === 'pwrite64' && c.t >= h.answered! && c.t <= h.stored!)
      const httpW = sys.find((c) => c.proc === 'host' && c.main && c.name === 'writev' && c.t >= h.stored! && c.t <= fin)
      const agentR = sys.find((c) => c.proc === 'agent' && c.name === 'read' && c.ret > 0 && c.t >= fin && c.t <= end)
      if (agentW) add('  p agent write → host read end (wake-up)', hostRead ? hostRead.t + hostRead.dur - agentW.t : undefined)
      if (frameW) {
        add('  p forward → frame write syscall', frameW.t - h.forward!)
        if (eRead) add('  p frame write → enclave read end (wake-up)', eRead.t + eRead.dur - frameW.t)
      }
      if (eRead && eWrite) add('  p enclave: frame read → answer write', eWrite.t - eRead.t - eRead.dur)
      if (eWrite && ansRead) add('  p answer write → host read end (wake-up)', ansRead.t + ansRead.dur - eWrite.t)
      if (ansRead) add('  p host read end → answered (frame decode)', h.answered! - ansRead.t - ansRead.dur)
      if (wal.length > 0) {
        add('  p answered → first WAL write (checks, answer text, BEGIN, inserts)', wal[0]!.t - h.answered!)
        add('  p first → last WAL write', wal.at(-1)!.t + wal.at(-1)!.dur - wal[0]!.t)
        add('  p last WAL write → committed', h.stored! - wal.at(-1)!.t - wal.at(-1)!.dur)
        add('  p WAL writes (count)', wal.length / 1000)
      }
      if (httpW && agentR) add('  p HTTP writev → agent read end (wake-up)', agentR.t + agentR.dur - httpW.t)
    }
  }
  if (sys && joined > 0) {
    // Syscalls per answered request over the traced window, by process and thread (main / others).
    const first = Math.min(...trace.map((t) => t.at + off)), last = Math.max(...trace.map((t) => t.at + t.ms + off))
    const inWin = sys.filter((c) => c.t >= first && c.t <= last)
    const counts = new Map<string, number>()
    for (const c of inWin) counts.set(`${c.proc} ${c.main ? 'main' : 'other'} ${c.name}`, (counts.get(`${c.proc} ${c.main ? 'main' : 'other'} ${c.name}`) ?? 0) + 1)
    console.log(`syscalls per request (traced window, ${trace.length} requests): ${[...counts].sort().map(([k, v]) => `${k} ${(v / trace.length).toFixed(2)}`).join(', ')}`)
  }
  const q = (xs: number[], f: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(f * xs.length))]!
  console.log(`hops of ${joined} of ${trace.length} requests (µs: median / p90; medians do not add up to the median latency)`)
  for (const k of Object.keys(stages)) console.log(`  ${k.padEnd(76)} ${q(stages[k]!, 0.5).toFixed(0).padStart(6)} / ${q(stages[k]!, 0.9).toFixed(0).padStart(6)}`)
  console.log(`stamps: ${hopFile}${usePerf ? `, perf: ${perfFile}` : ''}`)
}

type Call = { t: number; dur: number; proc: string; name: string; ret: number; main: boolean }

/** perf trace's calls of the three processes, on CLOCK_MONOTONIC (ms). */
function perfCalls(calib: Array<[number, number]>): Call[] {
  const who = new Map<number, string>()
  for (const [k, pid] of Object.entries(pids)) for (const t of readdirSync(`/proc/${pid}/task`).map(Number)) who.set(t, k)
  const re = /^\s*([\d.]+) \(\s*([\d.]+) ms\): [^/]*\/(\d+) +(?:\.\.\. \[continued\]: )?(\w+)\((?:fd: (\d+))?(?:.*count: (\d+))?.*\)\s+= (-?\d+)/
  const raw: Array<{ t: number; dur: number; tid: number; name: string; count: number; ret: number }> = []
  for (const line of readFileSync(perfFile, 'utf8').split('\n')) {
    const m = re.exec(line)
    if (m) raw.push({ t: Number(m[1]), dur: Number(m[2]), tid: Number(m[3]), name: m[4]!, count: Number(m[6] ?? -1), ret: Number(m[7]) })
  }
  const diffs = calib.map(([n, t]) => raw.find((c) => c.tid === process.pid && c.name === 'write' && c.count === n)).map((c, i) => (c ? c.t - calib[i]![1] : Number.NaN)).filter(Number.isFinite)
  const offset = [...diffs].sort((a, b) => a - b)[diffs.length >> 1]
  if (offset === undefined) throw new Error('perf clock not calibrated (no marker write seen)')
  console.log(`perf clock − CLOCK_MONOTONIC: ${offset.toFixed(3)} ms (spread ${(Math.max(...diffs) - Math.min(...diffs)).toFixed(3)} ms over ${diffs.length} markers; each ≥ the true offset by the write's entry)`)
  return raw.filter((c) => who.has(c.tid)).map((c) => ({ t: c.t - offset, dur: c.dur, proc: who.get(c.tid)!, name: c.name, ret: c.ret, main: Object.values(pids).includes(c.tid) }))
}
