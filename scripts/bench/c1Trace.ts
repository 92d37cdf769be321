/**
 * Issue 18 (lat18): where one payment's wall time goes at c = 1, stage by stage, from the kernel's own syscall
 * timestamps (`perf trace`, tracepoints: no ptrace stop, nothing in the code under test) of the load generator, the
 * host and the enclave on one fresh stack. Per request, in order:
 *
 *   agent write (HTTP request) → host read → host write (frame) → enclave read → enclave write (answer frame)
 *   → host read → host commit (its pwrite64s; fsync/fdatasync counted) → host writev (HTTP answer) → agent read
 *
 * and the gaps between them (a gap that starts with one process's write and ends with another's read is the
 * wake-up: the reader's epoll return plus its event-loop work before the read). Prints the median and p90 of each
 * stage over the traced requests, and the syscalls per request of each process.
 *
 *   npx tsx scripts/bench/c1Trace.ts [root] [traceMs=3000]
 * Needs `perf` with syscall tracepoints (root or perf_event_paranoid ≤ 1).
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { startStack } from '../lib/startStack.js'
import { LoadGenerator } from './LoadGenerator.js'
import { setupBenchAgents } from './setupBenchAgents.js'

const root = path.resolve(process.argv[2] ?? '.')
const traceMs = Number(process.argv[3] ?? 3000)
const out = path.join(mkdtempSync(path.join(tmpdir(), 'bursar-c1trace-')), 'trace.txt')
const gcFile = path.join(path.dirname(out), 'gc.jsonl')
// C1TRACE_ENV=K=V,K=V: extra environment for the stack (e.g. a knob under test).
const extraEnv = process.env.C1TRACE_ENV ? Object.fromEntries(process.env.C1TRACE_ENV.split(',').map((kv) => kv.split('=') as [string, string])) : {}
const s = await startStack({ root, env: { BURSAR_GC_FILE: gcFile, ...extraEnv }, nodeArgs: ['--import', path.join(path.dirname(fileURLToPath(import.meta.url)), 'gcTrace.mjs')] })
const load = await LoadGenerator.start()
const pids = { agent: load.pid, host: s.host.pid!, enclave: s.enclave.pid! }
/** Thread ids of a process (the host's SQLite checkpoint worker, libuv pool): a syscall is the process's if its tid is one. */
const tids = (pid: number) => new Set(readdirSync(`/proc/${pid}/task`).map(Number))
try {
  const agents = await setupBenchAgents({ url: s.url, owner: privateKeyToAccount(generatePrivateKey()), wallets: 4, agentsPerWallet: 4 })
  await new Promise((r) => setTimeout(r, 2200))
  await load.run({ url: s.url, agents, concurrency: 8, requests: 0, auth: 'session' })
  await load.run({ url: s.url, agents, concurrency: 1, warmupMs: 0, durationMs: 1500, auth: 'session' })
  const running = load.run({ url: s.url, agents, concurrency: 1, warmupMs: 500, durationMs: traceMs + 1500, auth: 'session' })
  await new Promise((r) => setTimeout(r, 800))
  const who = new Map<number, keyof typeof pids>()
  for (const [k, pid] of Object.entries(pids) as [keyof typeof pids, number][]) for (const t of tids(pid)) who.set(t, k)
  // Each main thread's ns on CPU and ns runnable but waiting for a CPU (/proc schedstat): a loaded machine shows up
  // as waiting, so the traced wall time minus the three threads' waiting is what the path costs with cores free.
  const sched = (pid: number) => readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').split(' ').map(Number)
  const s0 = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, sched(pid)]))
  const from = Date.now()
  const perf = spawn('perf', ['trace', '-o', out, '-e', 'read,readv,write,writev,pwrite64,pread64,fsync,fdatasync,epoll_pwait,epoll_wait', '-p', Object.values(pids).join(',')], { stdio: 'ignore' })
  await new Promise((r) => setTimeout(r, traceMs))
  perf.kill('SIGINT')
  await new Promise((r) => perf.once('exit', r))
  const to = Date.now()
  const s1 = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, sched(pid)]))
  const r = await running
  console.log(`${path.basename(root)}: c=1 ${r.opsPerSec} ops/s, client p50 ${r.latencyMs.p50} ms, p90 ${r.latencyMs.p90} ms, mean ${r.latencyMs.mean} ms (load ${loadavg()[0]!.toFixed(2)})`)
  const answers = analyze(readFileSync(out, 'utf8'), who, pids)
  let waiting = 0
  for (const k of Object.keys(pids)) {
    const [on, wait] = [(s1[k]![0]! - s0[k]![0]!) / 1e3 / answers, (s1[k]![1]! - s0[k]![1]!) / 1e3 / answers]
    waiting += wait
    console.log(`  ${k} main thread per request: ${on.toFixed(0)} µs on CPU, ${wait.toFixed(0)} µs runnable but waiting for a CPU`)
  }
  console.log(`  the three main threads waited ${waiting.toFixed(0)} µs per request for a CPU (the machine's load): the traced median less that ≈ the path with free cores`)
  await new Promise((r) => setTimeout(r, 1200)) // the GC files flush every second
  const gcs = readFileSync(gcFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { pid: number; at: number; ms: number; kind: string; ev?: string }).filter((g) => !g.ev && g.at >= from && g.at <= to)
  const answered = r.opsPerSec * ((to - from) / 1000)
  for (const [name, pid] of [['host', pids.host], ['enclave', pids.enclave]] as const) {
    const mine = gcs.filter((g) => g.pid === pid)
    const by = (k: string) => mine.filter((g) => g.kind === k)
    console.log(`  GC ${name}: ${(['minor', 'major', 'incremental', 'weakcb'] as const).map((k) => `${k} ${by(k).length} (${by(k).reduce((n, g) => n + g.ms, 0).toFixed(1)} ms)`).join(', ')} in ${((to - from) / 1000).toFixed(1)} s ≈ ${answered.toFixed(0)} requests: ${((mine.reduce((n, g) => n + g.ms, 0) * 1000) / Math.max(1, answered)).toFixed(0)} µs of GC per request`)
  }
  console.log(`trace: ${out}`)
} finally {
  await load.close()
  await s.stop()
}

type Call = { t: number; dur: number; proc: string; tid: number; name: string; fd: number; ret: number; main: boolean }

/** Prints the stage table; returns how many requests the host answered in the trace. */
function analyze(text: string, who: Map<number, string>, p: Record<string, number>): number {
  // "  12.345 ( 0.012 ms): node/4321 write(fd: 23, buf: 0x…, count: 512) = 512"
  // A call another event interrupted is split: "… node/4321 read(fd: 23, …)      ..." then "… node/4321  ... [continued]: read()) = 12".
  const re = /^\s*([\d.]+) \(\s*([\d.]+) ms\): [^/]*\/(\d+) +(?:\.\.\. \[continued\]: )?(\w+)\((?:fd: (\d+))?.*\)\s+= (-?\d+)/
  const started = /^\s*[\d.]+ \(\s*\): [^/]*\/(\d+) (\w+)\(fd: (\d+)/
  const open = new Map<number, number>()
  const calls: Call[] = []
  for (const line of text.split('\n')) {
    const o = started.exec(line)
    if (o) open.set(Number(o[1]), Number(o[3]))
    const m = re.exec(line)
    if (!m) continue
    const tid = Number(m[3])
    const proc = who.get(tid) ?? 'other'
    const fd = m[5] !== undefined ? Number(m[5]) : (open.get(tid) ?? -1)
    calls.push({ t: Number(m[1]) * 1000, dur: Number(m[2]) * 1000, proc, tid, name: m[4]!, fd, ret: Number(m[6]), main: tid === p[proc] })
  }
  // The host's two main-thread sockets: the HTTP one (it writevs answers on it) and the enclave's (it writes frames on it).
  const main = (proc: string) => calls.filter((c) => c.proc === proc && c.main)
  const host = main('host')
  const count = (proc: string, name: string) => calls.filter((c) => c.proc === proc && c.name === name).length
  const httpFd = mode(host.filter((c) => c.name === 'writev').map((c) => c.fd))
  const enclaveFd = mode(host.filter((c) => c.name === 'write' && c.fd !== httpFd).map((c) => c.fd))
  const stages: Record<string, number[]> = {}
  const add = (k: string, v: number) => (stages[k] ??= []).push(v)
  // Walk the host's main thread: each HTTP answer writev closes one request; find its chain backwards.
  const answers = host.filter((c) => c.name === 'writev' && c.fd === httpFd)
  let requests = 0
  const agentCalls = main('agent')
  const enclaveCalls = main('enclave')
  for (const w of answers) {
    const before = host.filter((c) => c.t <= w.t)
    const ansRead = before.findLast((c) => c.name === 'read' && c.fd === enclaveFd && c.ret > 0)
    const frameWrite = ansRead && before.findLast((c) => c.name === 'write' && c.fd === enclaveFd && c.t < ansRead.t)
    const reqRead = frameWrite && before.findLast((c) => c.name === 'read' && c.fd === httpFd && c.ret > 0 && c.t < frameWrite.t)
    if (!ansRead || !frameWrite || !reqRead) continue
    const prevAnswer = answers.findLast((a) => a.t < w.t)
    if (prevAnswer && prevAnswer.t > reqRead.t) continue // two requests overlapped: not c = 1
    const agentWrite = agentCalls.findLast((c) => (c.name === 'write' || c.name === 'writev') && c.t <= reqRead.t)
    const agentRead = agentCalls.find((c) => c.name === 'read' && c.ret > 0 && c.t >= w.t)
    const eRead = enclaveCalls.find((c) => c.name === 'read' && c.ret > 0 && c.t >= frameWrite.t && c.t <= ansRead.t)
    const eWrite = enclaveCalls.findLast((c) => (c.name === 'write' || c.name === 'writev') && c.t <= ansRead.t)
    if (!agentWrite || !agentRead || !eRead || !eWrite || eWrite.t < eRead.t) continue
    const commit = host.filter((c) => (c.name === 'pwrite64' || c.name === 'fdatasync' || c.name === 'fsync') && c.t > ansRead.t && c.t < w.t)
    const end = (c: Call) => c.t + c.dur
    requests++
    add('1 agent write → host read (wake)', end(reqRead) - agentWrite.t)
    add('2 host: HTTP parse → frame write', frameWrite.t - end(reqRead))
    add('3 host write → enclave read (wake)', end(eRead) - frameWrite.t)
    add('4 enclave: frame read → answer write', eWrite.t - end(eRead))
    add('5 enclave write → host read (wake)', end(ansRead) - eWrite.t)
    if (commit.length > 0) {
      add('6a host: answer read → commit start', commit[0]!.t - end(ansRead))
      add('6b host: commit (first → last WAL write)', end(commit.at(-1)!) - commit[0]!.t)
      add('6c host: commit end → HTTP answer writev', w.t - end(commit.at(-1)!))
      add('   commit: WAL writes', commit.filter((c) => c.name === 'pwrite64').length)
      add('   commit: fsyncs', commit.filter((c) => c.name !== 'pwrite64').length)
    } else add('6 host: answer read → HTTP answer writev (no WAL write seen)', w.t - end(ansRead))
    add('7 host writev → agent read (wake)', end(agentRead) - w.t)
    add('= agent write → agent read', end(agentRead) - agentWrite.t)
  }
  const q = (xs: number[], f: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(f * xs.length))]!
  console.log(`traced requests: ${requests} of ${answers.length} host answers (µs: median / p90)`)
  for (const k of Object.keys(stages).sort()) console.log(`  ${k.padEnd(48)} ${q(stages[k]!, 0.5).toFixed(0).padStart(6)} / ${q(stages[k]!, 0.9).toFixed(0).padStart(6)}`)
  const n = Math.max(1, answers.length)
  for (const proc of ['agent', 'host', 'enclave'])
    console.log(`  syscalls per request, ${proc}: ${['read', 'write', 'writev', 'pwrite64', 'pread64', 'fsync', 'fdatasync', 'epoll_pwait', 'epoll_wait'].map((k) => `${k} ${(count(proc, k) / n).toFixed(2)}`).join(', ')}; threads seen ${new Set(calls.filter((c) => c.proc === proc).map((c) => c.tid)).size}`)
  const hostFsync = calls.filter((c) => c.proc === 'host' && (c.name === 'fsync' || c.name === 'fdatasync'))
  console.log(`  host fsync/fdatasync: ${hostFsync.length} (main thread ${hostFsync.filter((c) => c.main).length}), durations µs ${hostFsync.slice(0, 8).map((c) => c.dur.toFixed(0)).join(' ')}`)
  return n
}

function mode(xs: number[]): number {
  const m = new Map<number, number>()
  for (const x of xs) m.set(x, (m.get(x) ?? 0) + 1)
  return [...m].sort((a, b) => b[1] - a[1])[0]?.[0] ?? -1
}
