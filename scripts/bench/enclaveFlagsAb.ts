/**
 * Interleaved A/B of the enclave process's node flags (issue 18, memory vs CPU), through memoryRun's driver: one real
 * simulated enclave per run, no host, payments as frames at 64 in flight. Each round runs every configuration once in
 * rotating order and prints the enclave's CPU µs per payment, its max RSS and its heap after GC at the end.
 *   npx tsx scripts/bench/enclaveFlagsAb.ts [rounds=3] [payments=30000] NAME=FLAGS...   (FLAGS comma-separated, may be empty)
 *   e.g.  default=  semi8=--max-semi-space-size=8  semi4=--max-semi-space-size=4  before=/tmp/main/dist/enclave.sim.mjs
 */
import { memoryRun } from './memoryRun.js'

const [roundsArg, paymentsArg, ...specs] = process.argv.slice(2)
const rounds = Number(roundsArg ?? 3)
const payments = Number(paymentsArg ?? 30_000)
const configs = specs.map((s) => {
  const name = s.slice(0, s.indexOf('=')), flags = s.slice(s.indexOf('=') + 1)
  // FLAGS may start with a bundle path (another checkout's dist/enclave.sim.mjs) for a before/after of the bundle.
  const parts = flags.split(',').filter(Boolean)
  const bundle = parts[0]?.endsWith('.mjs') ? parts.shift() : undefined
  return { name, flags: parts, bundle }
})
type Row = { cpu: number; rss: number; heap: number }
const rows = new Map<string, Row[]>(configs.map((c) => [c.name, []]))
for (let r = 0; r < rounds; r++) {
  for (let i = 0; i < configs.length; i++) {
    const c = configs[(i + r) % configs.length]!
    const m = await memoryRun({ payments, wallets: 20, concurrency: 64, agentsPerWallet: 1, samples: 1, enclaveNodeArgs: c.flags, bundle: c.bundle, log: () => {} })
    const row = { cpu: m.enclaveCpuUsPerPayment, rss: m.rssMaxMb, heap: m.final.heapUsedMb }
    rows.get(c.name)!.push(row)
    console.log(`round ${r + 1} ${c.name.padEnd(10)} enclave ${row.cpu} µs/payment, RSS max ${row.rss} MB (idle ${m.idle.rssMb}), heap after GC ${row.heap} MB, ${Math.round(m.payments / m.seconds)}/s, load ${(await import('node:fs')).readFileSync('/proc/loadavg', 'utf8').split(' ')[0]}`)
  }
}
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
for (const [name, rs] of rows) {
  const f = (k: keyof Row) => `${med(rs.map((x) => x[k]))} [${Math.min(...rs.map((x) => x[k]))}–${Math.max(...rs.map((x) => x[k]))}]`
  console.log(`${name.padEnd(10)} median [min–max]: enclave µs/payment ${f('cpu')}, RSS max MB ${f('rss')}, heap after GC MB ${f('heap')}`)
}
