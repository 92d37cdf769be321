/**
 * Issue 18: the open-loop section of `make bench` alone (c = 64 windows to grow the state as the bench does, then
 * Poisson arrivals at half the median c = 64 rate), for before/after runs of the periodic seal. Prints p50 / p99 /
 * p99.9 / max of each open-loop window.
 *   npx tsx scripts/bench/openLoopSeal.ts [--root /other/checkout] [--every N] [--windows 3] [--open 2] [--wallets 4] [--prof DIR]
 * --prof: --cpu-prof in the enclave and host (the whole run), top self time of each printed at the end.
 * --loop: each second's event-loop delay in the enclave and host (scripts/bench/loopDelay.mjs) during the open-loop windows.
 */
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { benchEndToEnd } from './benchEndToEnd.js'
import { formatCpuProfileSummary } from './formatCpuProfileSummary.js'
import { summarizeCpuProfile } from './summarizeCpuProfile.js'

const arg = (name: string) => {
  const i = process.argv.indexOf(`--${name}`)
  return i > 0 ? process.argv[i + 1] : undefined
}
const every = arg('every')
const loopFile = process.argv.includes('--loop') ? path.join(mkdtempSync(path.join(tmpdir(), 'bursar-loop-')), 'delay.jsonl') : undefined
const loopArgs = loopFile ? ['--import', path.join(path.dirname(fileURLToPath(import.meta.url)), 'loopDelay.mjs')] : []
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!
let openFrom = Number.POSITIVE_INFINITY
const r = await benchEndToEnd({
  levels: Array.from({ length: Number(arg('windows') ?? 3) }, () => 64),
  warmupMs: 1500,
  durationMs: Number(arg('ms') ?? 5000),
  wallets: Number(arg('wallets') ?? 4),
  root: arg('root'),
  env: { ...(every ? { BURSAR_SNAPSHOT_EVERY: every } : {}), ...(loopFile ? { BURSAR_LOOP_DELAY_FILE: loopFile } : {}) },
  nodeArgs: [...loopArgs, ...(arg('prof') ? ['--cpu-prof', '--cpu-prof-dir', arg('prof')!] : [])],
  log: (l) => console.log(l),
  openLoopRates: (closed) => {
    openFrom = Date.now()
    return Array.from({ length: Number(arg('open') ?? 2) }, () => 0.5 * median(closed.map((l) => l.opsPerSec)))
  },
})
for (const o of r.openLoop) {
  const l = o.latencyMs
  console.log(`open loop ${o.ratePerSec}/s: ${o.opsPerSec} ops/s, p50 ${l.p50} ms, p99 ${l.p99} ms, p99.9 ${l.p999} ms, max ${l.max} ms, failed ${o.failed}; cpu µs/req ${JSON.stringify(o.cpuUsPerRequest)}`)
}
console.log(`state at end: ${JSON.stringify(r.stateAtEnd)}`)
const prof = arg('prof')
if (prof) for (const f of readdirSync(prof).filter((f) => f.endsWith('.cpuprofile'))) console.log(formatCpuProfileSummary(f, summarizeCpuProfile(path.join(prof, f), 20)))
if (loopFile) {
  const rows = readFileSync(loopFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { pid: number; t: number; max: number; p99: number })
  for (const [name, pid] of [['enclave', r.pids.enclave], ['host', r.pids.host]] as const) {
    const mine = rows.filter((x) => x.pid === pid && x.t > openFrom + 1_500)
    console.log(`event-loop delay, ${name}, ${mine.length} s of the open-loop windows: per-second max ${mine.map((x) => x.max).join(' ')} ms`)
  }
}
