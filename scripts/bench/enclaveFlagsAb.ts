/**
 * Interleaved A/B of the enclave process's node flags (issue 18, memory vs CPU), through memoryRun's driver: one real
 * simulated enclave per run, no host, payments as frames at 64 in flight, one GC'd sample at the end only (so the
 * heap grows as it does under `make bench`). Each round runs every configuration once in rotating order and prints the
 * enclave's CPU µs per payment, its max RSS and its heap after GC at the end, with the load average.
 *   npx tsx scripts/bench/enclaveFlagsAb.ts [rounds=3] [payments=30000] NAME=FLAGS...   (FLAGS comma-separated, may be empty)
 *   e.g.  default=  semi8=--max-semi-space-size=8  before=/tmp/main/dist/enclave.sim.mjs  arena2=MALLOC_ARENA_MAX=2
 * A FLAGS part that looks like ENV_NAME=value is set in the enclave's environment instead of passed to node. Every
 * configuration starts with the launchers' memory settings (scripts/lib/enclaveLaunch.ts) unless a part is `bare`.
 * BENCH_AB_SHAPE=WALLETSxAGENTS (default 4x16, the shape of `make bench`'s stack; 20x1 was the earlier default).
 * BENCH_AB_RATE=n: paced at n payments/s (default 1000, the bench's open-loop rate; 0: as fast as the enclave
 * answers). A fixed rate keeps the state the same for every configuration: unpaced, a configuration that runs
 * slower (a loaded machine, or its own CPU cost) holds fewer replay ids and raw spends and looks leaner.
 */
import { readFileSync } from 'node:fs'
import { memoryRun } from './memoryRun.js'

const [roundsArg, paymentsArg, ...specs] = process.argv.slice(2)
const rounds = Number(roundsArg ?? 3)
const payments = Number(paymentsArg ?? 30_000)
const rate = Number(process.env.BENCH_AB_RATE ?? 1000)
const [wallets, agentsPerWallet] = (process.env.BENCH_AB_SHAPE ?? '4x16').split('x').map(Number) as [number, number]
const configs = specs.map((s) => {
  const name = s.slice(0, s.indexOf('=')), flags = s.slice(s.indexOf('=') + 1)
  // FLAGS may start with a bundle path (another checkout's dist/enclave.sim.mjs) for a before/after of the bundle.
  const parts = flags.split(',').filter(Boolean)
  const bundle = parts[0]?.endsWith('.mjs') ? parts.shift() : undefined
  const env = Object.fromEntries(parts.filter((p) => /^[A-Z_][A-Z0-9_]*=/.test(p)).map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)]))
  const bare = parts.includes('bare')
  return { name, flags: parts.filter((p) => p !== 'bare' && !/^[A-Z_][A-Z0-9_]*=/.test(p)), bundle, env, bare }
})
const load = () => readFileSync('/proc/loadavg', 'utf8').split(' ')[0]
type Row = { cpu: number; rss: number; heap: number; end: number; p99: number; gcMs: number }
const rows = new Map<string, Row[]>(configs.map((c) => [c.name, []]))
console.log(`enclave flags A/B: ${rounds} rounds × ${configs.length} configurations, ${payments} payments each over ${wallets} wallets × ${agentsPerWallet} agents, sessions, ${rate ? `paced at ${rate}/s` : 'unpaced'}; load ${load()}`)
for (let r = 0; r < rounds; r++) {
  for (let i = 0; i < configs.length; i++) {
    const c = configs[(i + r) % configs.length]!
    const m = await memoryRun({ payments, wallets, concurrency: 64, agentsPerWallet, samples: 1, ratePerSec: rate || undefined, enclaveNodeArgs: c.flags, enclaveEnv: c.env, bundle: c.bundle, launchDefaults: !c.bare, log: () => {} })
    const g = m.gcPauses
    const row = { cpu: m.enclaveCpuUsPerPayment, rss: m.rssMaxMb, heap: m.final.heapUsedMb, end: m.final.rssMb, p99: m.latencyMs.p99, gcMs: g ? Math.round(g.minor[1] + g.major[1] + g.other[1]) : Number.NaN }
    rows.get(c.name)!.push(row)
    console.log(`round ${r + 1} ${c.name.padEnd(10)} enclave ${row.cpu} µs/payment, RSS max ${row.rss} MB (idle ${m.idle.rssMb}, after the final GC ${row.end}), heap after GC ${row.heap} MB, ${Math.round(m.payments / m.seconds)}/s, latency p50 ${m.latencyMs.p50} p99 ${row.p99} ms, GC pauses ${g ? `minor ${g.minor[0]}× ${Math.round(g.minor[1])} ms, major ${g.major[0]}× ${Math.round(g.major[1])} ms (max ${Math.round(g.major[2])}), other ${g.other[0]}×` : 'n/a'}, load ${load()}`)
  }
}
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
for (const [name, rs] of rows) {
  const f = (k: keyof Row) => `${med(rs.map((x) => x[k]))} [${Math.min(...rs.map((x) => x[k]))}–${Math.max(...rs.map((x) => x[k]))}]`
  console.log(`${name.padEnd(10)} median [min–max]: enclave µs/payment ${f('cpu')}, RSS max MB ${f('rss')}, heap after GC MB ${f('heap')}, p99 ms ${f('p99')}, GC pause ms ${f('gcMs')}`)
}
