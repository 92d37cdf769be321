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
import { loadavg } from 'node:os'
import path from 'node:path'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { startStack } from '../lib/startStack.js'
import { LoadGenerator } from './LoadGenerator.js'
import { perfTraceSummary, procCpu as sample, procCpuLine } from './procCpu.js'
import { setupBenchAgents } from './setupBenchAgents.js'

const root = path.resolve(process.argv[2] ?? '.')
const pairs = Number(process.argv[3] ?? 3)
const ms = Number(process.argv[4] ?? 4000)
const SPIN = process.env.SPIN === '1'
const PIN = process.env.PIN === '1'
const BATCH = process.env.BATCH === '1'

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
      // BATCH=1: the "c = 64" slot runs c = 1 with every thread of the three processes under SCHED_BATCH (chrt -b: a
      // woken thread does not preempt the running one), the other slot under SCHED_OTHER: what wake-up preemption costs.
      if (BATCH) for (const pid of Object.values(pids)) spawnSync('chrt', [c === 64 ? '-b' : '-o', '-a', '-p', '0', String(pid)], { stdio: 'ignore' })
      const conc = SPIN || PIN || BATCH ? 1 : c
      await load.run({ url: s.url, agents, concurrency: conc, warmupMs: 0, durationMs: 800, auth: 'session' })
      const a = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, sample(pid)]))
      const r = await load.run({ url: s.url, agents, concurrency: conc, warmupMs: 0, durationMs: ms, auth: 'session' })
      const b = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, sample(pid)]))
      const n = r.answeredAll
      const row: Record<string, number> = { p50: r.latencyMs.p50, ops: r.opsPerSec }
      const parts: string[] = []
      for (const k of Object.keys(pids)) {
        const x = procCpuLine(k, a[k]!, b[k]!, n)
        row[`${k}.user`] = x.user
        row[`${k}.sys`] = x.sys
        row[`${k}.vol`] = x.vol
        parts.push(x.line)
      }
      for (const sp of spinners) sp.kill('SIGKILL')
      rows[c]!.push(row)
      console.log(`pair ${p + 1} c=${conc}${spinners.length ? ' (idle spinners)' : ''}${PIN && c === 64 ? ' (pinned: enclave CPU 0, host + load generator CPU 1)' : ''}${BATCH && c === 64 ? ' (SCHED_BATCH)' : ''}: ${r.opsPerSec} ops/s, p50 ${r.latencyMs.p50} ms, p99 ${r.latencyMs.p99} ms, ${n} answers (load ${loadavg()[0]!.toFixed(2)}); per request:`)
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
      const r = await perfTraceSummary(pids, () => load.run({ url: s.url, agents, concurrency: c, warmupMs: 0, durationMs: Math.min(ms, 3000), auth: 'session' }))
      console.log(`syscalls per request at c=${c} (${r.answers} answers under perf trace, p50 ${r.p50} ms):`)
      for (const line of r.lines) console.log(line)
    }
  }
} finally {
  await load.close()
  await s.stop()
}
