/**
 * Bisects the end-to-end cost across commits: each argument is a checkout (a git worktree with dist/ built by
 * `npx tsx scripts/buildEnclave.ts`) whose OWN bench harness (startStack, setupBenchAgents, load generator: the wire
 * format of that commit) runs one c = 64 window. Commits run in rotating order, round after round, and every run is
 * bracketed by a raw viem signature measured in this process, so each figure is a ratio of CPU times taken minutes
 * apart at most: enclave and host CPU µs per answered request ÷ CPU µs per raw signature.
 *
 *   npx tsx scripts/bench/bisectE2e.ts /tmp/wt-a /tmp/wt-b ...     (BISECT_ROUNDS=3 BISECT_WINDOW_MS=4000)
 */
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { rawSignatureCpuUs } from './rawSignatureCpu.js'

type Row = { dir: string; round: number; ops: number; raw: number; enclave: number; host: number; ratio: number; relOps: number }

const dirs = process.argv.slice(2)
if (dirs.length === 0) throw new Error('usage: bisectE2e.ts <checkout> [<checkout> ...]')
const rounds = Number(process.env.BISECT_ROUNDS ?? 3)
const windowMs = Number(process.env.BISECT_WINDOW_MS ?? 4000)
const rows: Row[] = []
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length === 0 ? Number.NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
}

for (let round = 0; round < rounds; round++) {
  const order = dirs.map((_, i) => dirs[(i + round) % dirs.length]!)
  for (const dir of order) {
    const { benchEndToEnd } = (await import(pathToFileURL(path.join(path.resolve(dir), 'scripts/bench/benchEndToEnd.ts')).href)) as typeof import('./benchEndToEnd.js')
    const before = rawSignatureCpuUs(1000)
    const r = await benchEndToEnd({ levels: [64], warmupMs: 1500, durationMs: windowMs })
    const after = rawSignatureCpuUs(1000)
    const raw = (before.cpuUs + after.cpuUs) / 2
    const rawOps = (before.opsPerSec + after.opsPerSec) / 2
    const l = r.levels[0]!
    const row: Row = {
      dir: path.basename(dir),
      round,
      ops: l.opsPerSec,
      raw: Math.round(raw),
      enclave: l.cpuUsPerRequest.enclave!,
      host: l.cpuUsPerRequest.host!,
      ratio: (l.cpuUsPerRequest.enclave! + l.cpuUsPerRequest.host!) / raw,
      relOps: l.opsPerSec / rawOps,
    }
    rows.push(row)
    console.log(
      `round ${round} ${row.dir}: ${row.ops} ops/s (${row.relOps.toFixed(2)}× raw rate), raw sig ${row.raw} µs; enclave ${row.enclave} µs = ${(row.enclave / raw).toFixed(2)}×, host ${row.host} µs = ${(row.host / raw).toFixed(2)}×, sum ${row.ratio.toFixed(2)}×`,
    )
  }
}

console.log('\nmedians over rounds (CPU per answered request ÷ CPU per raw viem signature, same run):')
console.log('checkout       enclave×  host×  (enclave+host)×  ops/s÷raw rate')
for (const dir of dirs) {
  const rs = rows.filter((r) => r.dir === path.basename(dir))
  const e = median(rs.map((r) => r.enclave / r.raw))
  const h = median(rs.map((r) => r.host / r.raw))
  const s = median(rs.map((r) => r.ratio))
  const o = median(rs.map((r) => r.relOps))
  console.log(`${path.basename(dir).padEnd(14)} ${e.toFixed(2).padStart(7)}  ${h.toFixed(2).padStart(5)}  ${s.toFixed(2).padStart(15)}  ${o.toFixed(2).padStart(14)}`)
}
console.log(JSON.stringify({ rows }))
