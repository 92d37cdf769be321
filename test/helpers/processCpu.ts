import { readFileSync } from 'node:fs'

/** USER_HZ on Linux (sysconf(_SC_CLK_TCK)): /proc/<pid>/stat counts CPU time in these ticks (scripts/bench/ProcessSampler.ts). */
const CLK_TCK = 100

/**
 * CPU time (user + system, all threads) a live child process has used so far, in ms, from /proc/<pid>/stat (fields 14
 * and 15, after the parenthesised command name). suite40: "the enclave did not spend seconds on this" measured in the
 * enclave's CPU instead of the client's wall clock, which a loaded CI machine stretches several times over.
 */
export function processCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK
}

/** CPU ms `pids` used while `run` was pending (summed over them), with `run`'s value. */
export async function cpuWhile<T>(pids: number[], run: () => Promise<T>): Promise<{ value: T; cpuMs: number }> {
  const before = pids.map(processCpuMs)
  const value = await run()
  return { value, cpuMs: pids.reduce((sum, pid, i) => sum + processCpuMs(pid) - before[i]!, 0) }
}
