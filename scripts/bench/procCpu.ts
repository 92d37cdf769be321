/**
 * lat41: per-process CPU and syscall counters for the c = 1 tools (c1Cpu.ts, sdkC1.ts).
 * `procCpu`: user and system µs of the whole process (/proc/PID/stat, every thread), each thread's on-CPU µs
 * (schedstat; Node 20 names every thread "node", so the main thread is told apart by tid = pid) and the voluntary /
 * involuntary context switches of every thread.
 */
import { spawn } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'

const TICK_US = 1e6 / 100 // USER_HZ

export type ProcCpu = { user: number; sys: number; vol: number; invol: number; threads: Map<string, number> }

export function procCpu(pid: number): ProcCpu {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const threads = new Map<string, number>()
  let vol = 0
  let invol = 0
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      // THREADS=1: every thread by its id (V8's platform workers start first, libuv's pool threads when first used).
      const name = tid === String(pid) ? 'main' : process.env.THREADS === '1' ? `t${Number(tid) - pid}` : 'other threads'
      const ns = Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0])
      threads.set(name, (threads.get(name) ?? 0) + ns / 1e3)
      const st = readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8')
      vol += Number(/^voluntary_ctxt_switches:\s+(\d+)/m.exec(st)?.[1] ?? 0)
      invol += Number(/^nonvoluntary_ctxt_switches:\s+(\d+)/m.exec(st)?.[1] ?? 0)
    } catch {
      // a thread that ended between readdir and read
    }
  }
  return { user: Number(f[11]) * TICK_US, sys: Number(f[12]) * TICK_US, vol, invol, threads }
}

/** One line per process: user + sys µs, context switches and each thread group's on-CPU µs, per request. */
export function procCpuLine(name: string, a: ProcCpu, b: ProcCpu, n: number): { line: string; user: number; sys: number; vol: number } {
  const user = (b.user - a.user) / n
  const sys = (b.sys - a.sys) / n
  const vol = (b.vol - a.vol) / n
  const inv = (b.invol - a.invol) / n
  const th = [...b.threads].map(([t, us]) => [t, (us - (a.threads.get(t) ?? 0)) / n] as const).filter(([, us]) => us >= 1).sort((i, j) => j[1] - i[1])
  return { user, sys, vol, line: `  ${name.padEnd(8)} user ${user.toFixed(0)} + sys ${sys.toFixed(0)} µs; ctx switches vol ${vol.toFixed(2)} invol ${inv.toFixed(2)}; on CPU ${th.map(([t, us]) => `${t} ${us.toFixed(0)}`).join(', ')}` }
}

/**
 * Runs `work` with `perf trace -s` (kernel tracepoints, no ptrace stop) attached to each pid, and answers each
 * process's syscalls per answered request by name (needs perf; root or perf_event_paranoid ≤ 1).
 */
export async function perfTraceSummary(pids: Record<string, number>, work: () => Promise<{ answeredAll: number; latencyMs: { p50: number } }>): Promise<{ answers: number; p50: number; lines: string[] }> {
  const traces = Object.entries(pids).map(([k, pid]) => {
    const t = spawn('perf', ['trace', '-s', '-p', String(pid)], { stdio: ['ignore', 'ignore', 'pipe'] })
    let err = ''
    t.stderr!.on('data', (d: Buffer) => (err += d.toString()))
    return { k, t, out: () => err }
  })
  await new Promise((r) => setTimeout(r, 500))
  const r = await work()
  for (const { t } of traces) t.kill('SIGINT')
  await Promise.all(traces.map(({ t }) => new Promise((res) => t.on('exit', res))))
  const lines = traces.map(({ k, out }) => {
    const counts = new Map<string, number>()
    for (const line of out().split('\n')) {
      const m = /^\s+(\w+)\s+(\d+)\s+\d+\s+[\d.]+/.exec(line)
      if (m) counts.set(m[1]!, (counts.get(m[1]!) ?? 0) + Number(m[2]))
    }
    const list = [...counts].map(([name, v]) => [name, v / r.answeredAll] as const).filter(([, v]) => v >= 0.05).sort((i, j) => j[1] - i[1])
    return `  ${k.padEnd(8)} ${list.reduce((t, [, v]) => t + v, 0).toFixed(1)}: ${list.map(([name, v]) => `${name} ${v.toFixed(2)}`).join(', ')}`
  })
  return { answers: r.answeredAll, p50: r.latencyMs.p50, lines }
}
