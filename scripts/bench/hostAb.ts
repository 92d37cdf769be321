/**
 * Interleaved A/B of whole builds (issue 18, host CPU per request and c = 1 latency): each config is a directory
 * holding a built `dist/` (e.g. a copy of main's dist next to this checkout's: `cp -r dist .ab/base/dist`; it must sit
 * under this checkout so the bundles resolve its node_modules). Each round runs every config once on a fresh stack
 * (c = 64 window, then a c = 1 window on the same stack), in rotating order, right after a raw viem signature
 * measurement, and reports per config: host and enclave CPU µs per answered request at c = 64 and c = 1, CPU per
 * payment (÷ that raw signature), ops/s, the c = 1 p50/p99 and the load average, then the B ÷ A ratio per round.
 *
 * An open-loop window at a fixed rate (HOSTAB_RATE, default 300/s, Poisson arrivals) follows on the same stack: the
 * same offered load for every config, so its host CPU per request compares like with like on a shared machine, where
 * the c = 64 throughput (and with it the batch size of every group commit and corked write) moves with the others.
 *
 *   npx tsx scripts/bench/hostAb.ts [rounds=3] [durationMs=6000] NAME=DIR [NAME=DIR ...]
 */
import { readdirSync, readFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import path from 'node:path'
import { benchEndToEnd } from './benchEndToEnd.js'
import { rawSignatureCpuUs } from './rawSignatureCpu.js'

const [roundsArg, durArg, ...specs] = process.argv.slice(2)
const rounds = Number(roundsArg ?? 3)
const durationMs = Number(durArg ?? 6000)
const rate = Number(process.env.HOSTAB_RATE ?? 300)
const configs = specs.map((s) => {
  const [name, dir] = s.split('=')
  return { name: name!, root: path.resolve(dir!) }
})
/** The host process started from `root` (this script's own child), found by its command line. */
function hostPid(root: string, file = 'dist/host.mjs'): number | null {
  const want = path.join(root, file)
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue
    try {
      if (readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0').includes(want)) return Number(d)
    } catch {}
  }
  return null
}
/** Write syscalls and bytes written (sockets and files) so far: counts, not times, so a shared machine moves them little. */
function io(pid: number | null): { syscw: number; wchar: number; syscr: number } {
  const t = pid ? readFileSync(`/proc/${pid}/io`, 'utf8') : ''
  const get = (k: string) => Number(new RegExp(`${k}: (\\d+)`).exec(t)?.[1] ?? Number.NaN)
  return { syscw: get('syscw'), wchar: get('wchar'), syscr: get('syscr') }
}
type Row = { enclaveWrites64: number; writes64: number; kb64: number; reads64: number; writes1: number; kb1: number; hostOpen: number; enclaveOpen: number; p50Open: number; host64: number; enclave64: number; ratio: number; ops64: number; host1: number; enclave1: number; p50: number; p99: number; raw: number; load: number }
const rows = new Map<string, Row[]>(configs.map((c) => [c.name, []]))
for (let p = 0; p < rounds; p++) {
  const order = configs.map((_, i) => configs[(i + p) % configs.length]!)
  for (const c of order) {
    const raw = rawSignatureCpuUs(1500).cpuUs
    const load = loadavg()[0]!
    const marks: Array<ReturnType<typeof io>> = []
    const enclaveMarks: Array<ReturnType<typeof io>> = []
    const r = await benchEndToEnd({ levels: [64, 1], warmupMs: 1500, durationMs, root: c.root, openLoopRates: [rate], between: async () => void (marks.push(io(hostPid(c.root))), enclaveMarks.push(io(hostPid(c.root, 'dist/enclave.sim.mjs')))) })
    const open = r.openLoop[0]!
    const [l64, l1] = r.levels as [(typeof r.levels)[0], (typeof r.levels)[0]]
    const d = (i: number, k: keyof ReturnType<typeof io>, n: number) => (marks[i + 1]![k] - marks[i]![k]) / n
    const row: Row = {
      writes64: d(0, 'syscw', l64.answeredAll),
      enclaveWrites64: (enclaveMarks[1]!.syscw - enclaveMarks[0]!.syscw) / l64.answeredAll,
      kb64: d(0, 'wchar', l64.answeredAll) / 1024,
      reads64: d(0, 'syscr', l64.answeredAll),
      writes1: d(1, 'syscw', l1.answeredAll),
      kb1: d(1, 'wchar', l1.answeredAll) / 1024,
      hostOpen: open.cpuUsPerRequest.host!,
      enclaveOpen: open.cpuUsPerRequest.enclave!,
      p50Open: open.latencyMs.p50,
      host64: l64.cpuUsPerRequest.host!,
      enclave64: l64.cpuUsPerRequest.enclave!,
      ratio: (l64.cpuUsPerRequest.host! + l64.cpuUsPerRequest.enclave!) / raw,
      ops64: l64.opsPerSec,
      host1: l1.cpuUsPerRequest.host!,
      enclave1: l1.cpuUsPerRequest.enclave!,
      p50: l1.latencyMs.p50,
      p99: l1.latencyMs.p99,
      raw,
      load,
    }
    rows.get(c.name)!.push(row)
    console.log(
      `round ${p + 1} ${c.name.padEnd(8)} c=64: host ${row.host64} µs, enclave ${row.enclave64} µs, ${row.ops64} ops/s, ratio ${row.ratio.toFixed(2)} (raw ${raw.toFixed(0)} µs), host per request ${row.writes64.toFixed(2)} write / ${row.reads64.toFixed(2)} read syscalls, ${row.kb64.toFixed(1)} KB written, enclave ${row.enclaveWrites64.toFixed(2)} write syscalls` +
        ` | c=1: host ${row.host1} µs, enclave ${row.enclave1} µs, p50 ${row.p50} ms, p99 ${row.p99} ms, host ${row.writes1.toFixed(2)} write syscalls / ${row.kb1.toFixed(1)} KB per request | open ${rate}/s: host ${row.hostOpen} µs, enclave ${row.enclaveOpen} µs, p50 ${row.p50Open} ms | load ${load.toFixed(2)}, failed ${l64.failed + l1.failed}`,
    )
  }
}
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
for (const [name, rs] of rows) {
  const f = (k: keyof Row, d = 0) => `${med(rs.map((r) => r[k])).toFixed(d)} [${Math.min(...rs.map((r) => r[k])).toFixed(d)}–${Math.max(...rs.map((r) => r[k])).toFixed(d)}]`
  console.log(`${name.padEnd(8)} median [min–max]: c=64 host µs ${f('host64')}, enclave µs ${f('enclave64')}, ratio ${f('ratio', 2)}, ops/s ${f('ops64')}, host write syscalls ${f('writes64', 2)}, KB written ${f('kb64', 1)}, enclave write syscalls ${f('enclaveWrites64', 2)} | c=1 host µs ${f('host1')}, enclave µs ${f('enclave1')}, p50 ms ${f('p50', 2)}, p99 ms ${f('p99', 2)} | open ${rate}/s host µs ${f('hostOpen')}, enclave µs ${f('enclaveOpen')}, p50 ms ${f('p50Open', 2)}`)
}
if (configs.length === 2) {
  const [a, b] = configs.map((c) => rows.get(c.name)!) as [Row[], Row[]]
  const per = (k: keyof Row) => a.map((x, i) => b[i]![k] / x[k])
  const show = (k: keyof Row) => `${per(k).map((x) => x.toFixed(2)).join(' / ')} (median ${med(per(k)).toFixed(2)})`
  console.log(`${configs[1]!.name} ÷ ${configs[0]!.name} per round: c=64 host ${show('host64')}; ratio ${show('ratio')}; c=64 host write syscalls ${show('writes64')}; c=1 host ${show('host1')}; c=1 p50 ${show('p50')}; open ${rate}/s host ${show('hostOpen')}`)
}
