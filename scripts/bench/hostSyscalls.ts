/**
 * Issue 18 (host37): the host's syscalls per answered request, counted by `perf stat` on kernel tracepoints (no ptrace
 * stop, nothing in the code under test): every `epoll_pwait`, the zero-timeout ones apart (an event-loop turn that did
 * not block: an immediate or a pending callback was waiting), `write`, `writev`, `pwrite64`. Counts barely move with
 * the machine's load, so builds compare on a shared machine where their CPU µs do not. Each config is a directory
 * holding a built dist/ under this checkout (as hostAb.ts); rounds interleave them in rotating order, each on a fresh
 * stack (the bench's 4 × 16 session agents, a warm-up, then `ms` at the given concurrency, the count spanning it).
 *
 *   npx tsx scripts/bench/hostSyscalls.ts [rounds=3] [concurrency=1] [ms=3000] NAME=DIR [NAME=DIR ...]
 *   (BURSAR_LOG_LEVEL=info: the host's default level; harness stacks run at warn)   Needs perf (perf_event_paranoid ≤ 1).
 */
import { spawn } from 'node:child_process'
import { loadavg } from 'node:os'
import path from 'node:path'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { startStack } from '../lib/startStack.js'
import { LoadGenerator } from './LoadGenerator.js'
import { setupBenchAgents } from './setupBenchAgents.js'

const [roundsArg, cArg, msArg, ...specs] = process.argv.slice(2)
const [rounds, concurrency, ms] = [Number(roundsArg ?? 3), Number(cArg ?? 1), Number(msArg ?? 3000)]
const configs = specs.map((s) => ({ name: s.split('=')[0]!, root: path.resolve(s.split('=')[1]!) }))
const EVENTS: Array<[string, string[]]> = [
  ['epoll_pwait', ['-e', 'syscalls:sys_enter_epoll_pwait']],
  ['epoll_pwait (timeout 0)', ['-e', 'syscalls:sys_enter_epoll_pwait', '--filter', 'timeout == 0']],
  ['write', ['-e', 'syscalls:sys_enter_write']],
  ['writev', ['-e', 'syscalls:sys_enter_writev']],
  ['pwrite64', ['-e', 'syscalls:sys_enter_pwrite64']],
]
const rows = new Map<string, number[][]>(configs.map((c) => [c.name, []]))
for (let r = 0; r < rounds; r++) {
  for (const c of configs.map((_, i) => configs[(i + r) % configs.length]!)) {
    const s = await startStack({ root: c.root })
    const load = await LoadGenerator.start()
    try {
      const agents = await setupBenchAgents({ url: s.url, owner: privateKeyToAccount(generatePrivateKey()), wallets: 4, agentsPerWallet: 16 })
      await load.run({ url: s.url, agents, concurrency: 8, requests: 0, auth: 'session' })
      await load.run({ url: s.url, agents, concurrency, warmupMs: 0, durationMs: 2000, auth: 'session' })
      const perf = spawn('perf', ['stat', '-x,', ...EVENTS.flatMap(([, a]) => a), '-p', String(s.host.pid)], { stdio: ['ignore', 'ignore', 'pipe'] })
      let err = ''
      perf.stderr!.on('data', (d: Buffer) => (err += d.toString()))
      await new Promise((res) => setTimeout(res, 300))
      const out = await load.run({ url: s.url, agents, concurrency, warmupMs: 0, durationMs: ms, auth: 'session' })
      perf.kill('SIGINT')
      await new Promise((res) => perf.on('exit', res))
      const counts = err.trim().split('\n').filter((l) => l.includes('syscalls:')).map((l) => Number(l.split(',')[0]) / out.answeredAll)
      if (counts.length !== EVENTS.length) throw new Error(`perf stat said: ${err}`)
      rows.get(c.name)!.push(counts)
      console.log(`round ${r + 1} ${c.name.padEnd(8)} c=${concurrency} ${out.answeredAll} answers, p50 ${out.latencyMs.p50} ms, load ${loadavg()[0]!.toFixed(1)}: per request ${EVENTS.map(([n], i) => `${n} ${counts[i]!.toFixed(2)}`).join(', ')}`)
    } finally {
      await load.close()
      await s.stop()
    }
  }
}
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
for (const [name, rs] of rows) console.log(`${name.padEnd(8)} median [min–max] per request: ${EVENTS.map(([n], i) => `${n} ${med(rs.map((x) => x[i]!)).toFixed(2)} [${Math.min(...rs.map((x) => x[i]!)).toFixed(2)}–${Math.max(...rs.map((x) => x[i]!)).toFixed(2)}]`).join(', ')}`)
