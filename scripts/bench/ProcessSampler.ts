import { readFileSync } from 'node:fs'
import { availableParallelism } from 'node:os'

export type ProcessSample = {
  maxRssMb: Record<string, number>
  /** Per watched process, plus `machine` (all processes, all cores) and `others` (machine minus the watched ones). */
  cpuPct: Record<string, number>
  /** CPU seconds each watched process used over the span. */
  cpuSeconds: Record<string, number>
}

const CLK_TCK = 100 // USER_HZ on Linux (sysconf(_SC_CLK_TCK)); /proc/<pid>/stat counts in these ticks

/**
 * Watches named processes while a bench level runs: maximum VmRSS (from
 * /proc/<pid>/status, sampled on an interval) and CPU used (utime + stime
 * from /proc/<pid>/stat) as % of one core over the watched span.
 */
export class ProcessSampler {
  private readonly maxRss: Record<string, number> = {}
  private readonly startTicks: Record<string, number> = {}
  private startedAt = 0
  private startMachine = { busy: 0, total: 0 }
  private timer: NodeJS.Timeout | null = null

  constructor(
    private readonly pids: Record<string, number>,
    private readonly intervalMs = 50,
  ) {}

  start(): void {
    this.startedAt = performance.now()
    for (const [name, pid] of Object.entries(this.pids)) this.startTicks[name] = cpuTicks(pid) ?? 0
    this.startMachine = machineTicks()
    this.sampleRss()
    this.timer = setInterval(() => this.sampleRss(), this.intervalMs)
  }

  stop(): ProcessSample {
    if (this.timer) clearInterval(this.timer)
    this.timer = null
    this.sampleRss()
    const seconds = (performance.now() - this.startedAt) / 1000
    const cpuPct: Record<string, number> = {}
    const cpuSeconds: Record<string, number> = {}
    for (const [name, pid] of Object.entries(this.pids)) {
      const ticks = cpuTicks(pid)
      if (ticks === null) continue
      cpuSeconds[name] = (ticks - (this.startTicks[name] ?? 0)) / CLK_TCK
      cpuPct[name] = Math.round((cpuSeconds[name] / seconds) * 100)
    }
    // /proc/stat counts every core: busy/total is the machine's load, × cores gives "% of one core" like the rest.
    const m = machineTicks()
    const cores = availableParallelism()
    cpuPct.machine = Math.round(((m.busy - this.startMachine.busy) / Math.max(1, m.total - this.startMachine.total)) * 100 * cores)
    cpuPct.others = Math.max(0, cpuPct.machine - Object.keys(this.pids).reduce((s, k) => s + (cpuPct[k] ?? 0), 0))
    return { maxRssMb: { ...this.maxRss }, cpuPct, cpuSeconds }
  }

  private sampleRss(): void {
    for (const [name, pid] of Object.entries(this.pids)) {
      const mb = rssMb(pid)
      if (mb !== null && mb > (this.maxRss[name] ?? 0)) this.maxRss[name] = mb
    }
  }
}

function rssMb(pid: number): number | null {
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Math.round((Number(m[1]) / 1024) * 10) / 10 : null
  } catch {
    return null
  }
}

function cpuTicks(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15 of the whole line.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return Number(rest[11]) + Number(rest[12])
  } catch {
    return null
  }
}

function machineTicks(): { busy: number; total: number } {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!
    const t = line.trim().split(/\s+/).slice(1).map(Number)
    const total = t.slice(0, 8).reduce((a, b) => a + b, 0) // user nice system idle iowait irq softirq steal
    const idle = (t[3] ?? 0) + (t[4] ?? 0)
    return { busy: total - idle, total }
  } catch {
    return { busy: 0, total: 0 }
  }
}
