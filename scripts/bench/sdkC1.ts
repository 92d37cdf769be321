/**
 * Issue 18 (lat41): c1Cpu.ts on the path users run: the published agent SDK (`bursarAccount(...).signTypedData`, an
 * x402 EIP-3009 payment, session MAC, receipt checked) in this process against a fresh stack. Windows at c = 1 and
 * c = 64 alternate; per window and process (enclave, host, agent = this process) user + system CPU µs per payment,
 * context switches and on-CPU µs of the main thread and the others; `SYSCALLS=1` adds one `perf trace -s` window per
 * concurrency (syscalls per payment by name, all three processes).
 *
 *   npx tsx scripts/bench/sdkC1.ts [pairs=3] [ms=3000]
 */
import { rmSync } from 'node:fs'
import { loadavg } from 'node:os'
import { bursarAccount } from '../../agent/index.js'
import { startStack } from '../lib/startStack.js'
import { perfTraceSummary, procCpu, procCpuLine } from './procCpu.js'
import { eip3009, timedRun } from './runSdkPairs.js'
import { benchAccountOptions, oneBenchAgent } from './setupBenchAgents.js'

const pairs = Number(process.argv[2] ?? 3)
const ms = Number(process.argv[3] ?? 3000)

const stack = await startStack(process.env.BURSAR_AB_ROOT ? { root: process.env.BURSAR_AB_ROOT } : {})
try {
  const a = await oneBenchAgent(stack)
  const account = bursarAccount(benchAccountOptions(stack, a))
  const op = () => account.signTypedData(eip3009(a.wallet))
  await timedRun({ op, concurrency: 64, windowMs: 800 })
  await timedRun({ op, concurrency: 1, windowMs: 500 })
  const pids = { enclave: stack.enclave.pid!, host: stack.host.pid!, agent: process.pid }
  for (let p = 0; p < pairs; p++) {
    for (const c of p % 2 === 0 ? [1, 64] : [64, 1]) {
      const before = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, procCpu(pid)]))
      const r = await timedRun({ op, concurrency: c, windowMs: ms })
      const after = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, procCpu(pid)]))
      console.log(`pair ${p + 1} c=${c}: ${r.opsPerSec}/s, p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms, ${r.n} payments${r.failed ? `, ${r.failed} failed` : ''} (load ${loadavg()[0]!.toFixed(2)}); per payment:`)
      for (const k of Object.keys(pids)) console.log(procCpuLine(k, before[k]!, after[k]!, r.n).line)
    }
  }
  if (process.env.SYSCALLS === '1')
    for (const c of [1, 64]) {
      const t = await perfTraceSummary(pids, async () => {
        const r = await timedRun({ op, concurrency: c, windowMs: Math.min(ms, 3000) })
        return { answeredAll: r.n, latencyMs: { p50: r.p50Ms } }
      })
      console.log(`syscalls per payment at c=${c} (${t.answers} payments under perf trace, p50 ${t.p50} ms):`)
      for (const line of t.lines) console.log(line)
    }
} finally {
  await stack.stop()
  rmSync(stack.dataDir, { recursive: true, force: true })
}
