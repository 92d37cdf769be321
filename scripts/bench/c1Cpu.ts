/**
 * Issue 18 (lat41): where the extra CPU of a request at one in flight goes. One fresh stack (the bench's 4 × 4 session
 * agents), windows at c = 1 and c = 64 alternating; per window and per process (enclave, host, load generator) the
 * CPU µs per answered request split into user and system time (/proc/PID/stat, every thread), each thread's on-CPU
 * µs per request by thread name (/proc/PID/task/TID/schedstat), and voluntary / involuntary context switches per
 * request (the process sleeping and being woken: one per event-loop wake-up that blocked). With `SYSCALLS=1` a last
 * window per concurrency runs under `perf trace -s` (kernel tracepoints, no ptrace stop) on all three processes and
 * prints each process's syscalls per request by name (needs perf; root or perf_event_paranoid ≤ 1). With `SPIN=1` the
 * c = 64 windows are c = 1 windows with two SCHED_IDLE busy loops running (`chrt -i 0`; they only take CPU time no one
 * else wants): the cores then never go idle, which separates the cost of waking an idle core from the work.
 *
 *   npx tsx scripts/bench/c1Cpu.ts [root=.] [pairs=3] [ms=4000]
 */
import { spawn, spawnSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import path from 'node:path'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { startStack } from '../lib/startStack.js'
import { LoadGenerator } from './LoadGenerator.js'
import { setupBenchAgents } from './setupBenchAgents.js'

const root = path.resolve(process.argv[2] ?? '.')
const pairs = Number(process.argv[3] ?? 3)
const ms = Number(process.argv[4] ?? 4000)
const SPIN = process.env.SPIN === '1'
const PIN = process.env.PIN === '1'
const TICK_US = 1e6 / 100 // USER_HZ

type Sample = { user: number; sys: number; vol: number; invol: number; threads: Map<string, number> }
function sample(pid: number): Sample {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const num = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0)
  const threads = new Map<string, number>()
  let vol = 0
  let invol = 0
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const comm = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim().replace(/\d+$/, '#')
      const ns = Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0])
      threads.set(comm, (threads.get(comm) ?? 0) + ns / 1e3)
      const st = readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8')
      vol += Number(/^voluntary_ctxt_switches:\s+(\d+)/m.exec(st)?.[1] ?? 0)
      invol += Number(/^nonvoluntary_ctxt_switches:\s+(\d+)/m.exec(st)?.[1] ?? 0)
    } catch {
      // a thread that ended between readdir and read
    }
  }
  void num
  return { user: Number(f[11]) * TICK_US, sys: Number(f[12]) * TICK_US, vol, invol, threads }
}

const s = await startStack({ root })
const load = await LoadGenerator.start()
try {
  const agents = await setupBenchAgents({ url: s.url, owner: privateKeyToAccount(generatePrivateKey()), wallets: 4, agentsPerWallet: 4 })
  await new Promise((r) => setTimeout(r, 2200))
  await load.run({ url: s.url, agents, concurrency: 8, requests: 0, auth: 'session' })
  const pids = { enclave: s.enclave.pid!, host: s.host.pid!, loadgen: load.pid }
  const rows: Record<string, Array<Record<string, number>>> = { 1: [], 64: [] }
  for (let p = 0; p < pairs; p++) {
    for (const c of p % 2 === 0 ? [1, 64] : [64, 1]) {
      // SPIN=1: the "c = 64" slot runs c = 1 with two SCHED_IDLE busy loops beside it (they take only idle CPU time, so
      // no vCPU goes idle between the hops): how much of c = 1's extra CPU is the cores waking from idle.
      const spinners = SPIN && c === 64 ? [0, 1].map(() => spawn('chrt', ['-i', '0', 'node', '-e', 'for(;;){}'], { stdio: 'ignore' })) : []
      if (SPIN && c === 64) await new Promise((r) => setTimeout(r, 300))
      // PIN=1: the "c = 64" slot runs c = 1 with the enclave on CPU 0 and host + load generator on CPU 1 (taskset, every
      // thread), the others on both CPUs as usual: whether the c = 1 cost is each process's caches taken by the others.
      if (PIN) for (const [k, pid] of Object.entries(pids)) spawnSync('taskset', ['-a', '-p', c === 64 ? (k === 'enclave' ? '1' : '2') : '3', String(pid)], { stdio: 'ignore' })
      const conc = SPIN || PIN ? 1 : c
      await load.run({ url: s.url, agents, concurrency: conc, warmupMs: 0, durationMs: 800, auth: 'session' })
      const a = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, sample(pid)]))
      const r = await load.run({ url: s.url, agents, concurrency: conc, warmupMs: 0, durationMs: ms, auth: 'session' })
      const b = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, sample(pid)]))
      const n = r.answeredAll
      const row: Record<string, number> = { p50: r.latencyMs.p50, ops: r.opsPerSec }
      const parts: string[] = []
      for (const k of Object.keys(pids)) {
        const [x, y] = [a[k]!, b[k]!]
        const u = (y.user - x.user) / n
        const sy = (y.sys - x.sys) / n
        const vol = (y.vol - x.vol) / n
        const inv = (y.invol - x.invol) / n
        row[`${k}.user`] = u
        row[`${k}.sys`] = sy
        row[`${k}.vol`] = vol
        const th = [...y.threads].map(([name, us]) => [name, (us - (x.threads.get(name) ?? 0)) / n] as const).filter(([, us]) => us >= 2).sort((i, j) => j[1] - i[1])
        parts.push(`  ${k.padEnd(8)} user ${u.toFixed(0)} + sys ${sy.toFixed(0)} µs; ctx switches vol ${vol.toFixed(2)} invol ${inv.toFixed(2)}; threads ${th.map(([t, us]) => `${t} ${us.toFixed(0)}`).join(', ')}`)
      }
      for (const sp of spinners) sp.kill('SIGKILL')
      rows[c]!.push(row)
      console.log(`pair ${p + 1} c=${conc}${spinners.length ? ' (idle spinners)' : ''}${PIN && c === 64 ? ' (pinned: enclave CPU 0, host + load generator CPU 1)' : ''}: ${r.opsPerSec} ops/s, p50 ${r.latencyMs.p50} ms, p99 ${r.latencyMs.p99} ms, ${n} answers (load ${loadavg()[0]!.toFixed(2)}); per request:`)
      console.log(parts.join('\n'))
    }
  }
  const med = (xs: number[]) => [...xs].sort((i, j) => i - j)[Math.floor(xs.length / 2)]!
  for (const c of ['1', '64']) {
    const rs = rows[c]!
    console.log(`c=${c} median: p50 ${med(rs.map((r) => r.p50!))} ms; ${Object.keys(pids).map((k) => `${k} user ${med(rs.map((r) => r[`${k}.user`]!)).toFixed(0)} + sys ${med(rs.map((r) => r[`${k}.sys`]!)).toFixed(0)} µs, vol ctx ${med(rs.map((r) => r[`${k}.vol`]!)).toFixed(2)}`).join('; ')}`)
  }
  if (process.env.SYSCALLS === '1') {
    for (const c of [1, 64]) {
      const traces = Object.entries(pids).map(([k, pid]) => {
        const t = spawn('perf', ['trace', '-s', '-p', String(pid)], { stdio: ['ignore', 'ignore', 'pipe'] })
        let err = ''
        t.stderr!.on('data', (d: Buffer) => (err += d.toString()))
        return { k, t, out: () => err }
      })
      await new Promise((r) => setTimeout(r, 500))
      const r = await load.run({ url: s.url, agents, concurrency: c, warmupMs: 0, durationMs: Math.min(ms, 3000), auth: 'session' })
      for (const { t } of traces) t.kill('SIGINT')
      await Promise.all(traces.map(({ t }) => new Promise((res) => t.on('exit', res))))
      console.log(`syscalls per request at c=${c} (${r.answeredAll} answers under perf trace, p50 ${r.latencyMs.p50} ms):`)
      for (const { k, out } of traces) {
        const counts = new Map<string, number>()
        for (const line of out().split('\n')) {
          const m = /^\s+(\w+)\s+(\d+)\s+\d+\s+[\d.]+/.exec(line)
          if (m) counts.set(m[1]!, (counts.get(m[1]!) ?? 0) + Number(m[2]))
        }
        const list = [...counts].map(([name, v]) => [name, v / r.answeredAll] as const).filter(([, v]) => v >= 0.05).sort((i, j) => j[1] - i[1])
        console.log(`  ${k.padEnd(8)} ${list.reduce((t, [, v]) => t + v, 0).toFixed(1)}: ${list.map(([name, v]) => `${name} ${v.toFixed(2)}`).join(', ')}`)
      }
    }
  }
} finally {
  await load.close()
  await s.stop()
}
