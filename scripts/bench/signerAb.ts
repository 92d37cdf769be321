/**
 * Interleaved A/B of enclave configurations (issue 18): secp256k1 engine and V8 heap flags of the enclave process.
 * (The signer-pool runs in docs/bench.md were made with this script at 5467e0f, when it also set BURSAR_SIGN_WORKERS.)
 * Each pair runs every configuration once on a fresh stack at c=64, in rotating order, and reports enclave and
 * host CPU µs per answered request, the CPU-per-payment ratio against one raw viem signature measured right
 * before the pair, and the enclave's max RSS. Usage:
 *   npx tsx scripts/bench/signerAb.ts [pairs=3] [durationMs=8000] CONFIG...
 *   CONFIG = name[:ENGINE[:flag,flag]]   e.g. native  noble:noble  semi1:libsecp256k1:--max-semi-space-size=1
 */
import { benchEndToEnd } from './benchEndToEnd.js'
import { rawSignatureCpuUs } from './rawSignatureCpu.js'

const [pairsArg, durArg, ...specs] = process.argv.slice(2)
const pairs = Number(pairsArg ?? 3)
const durationMs = Number(durArg ?? 8000)
const configs = specs.map((s) => {
  const [name, engine, flags] = s.split(':')
  return { name: name!, engine: engine || 'libsecp256k1', flags: flags ? flags.split(',') : [] }
})
type Row = { enclave: number; host: number; ratio: number; rss: number; opsPerSec: number; raw: number }
const rows = new Map<string, Row[]>(configs.map((c) => [c.name, []]))
for (let p = 0; p < pairs; p++) {
  const order = configs.map((_, i) => configs[(i + p) % configs.length]!)
  for (const c of order) {
    const raw = rawSignatureCpuUs(1500).cpuUs
    const r = await benchEndToEnd({
      levels: [64], warmupMs: 2000, durationMs, rssAt: 64,
      env: { BURSAR_SIGN_ENGINE: c.engine },
      enclaveNodeArgs: c.flags,
    })
    const l = r.levels[0]!
    const row = { enclave: l.cpuUsPerRequest.enclave!, host: l.cpuUsPerRequest.host!, ratio: 0, rss: r.rssMaxMb.enclave, opsPerSec: l.opsPerSec, raw }
    row.ratio = (row.enclave + row.host) / raw
    rows.get(c.name)!.push(row)
    console.log(`pair ${p + 1} ${c.name.padEnd(10)} enclave ${row.enclave} µs, host ${row.host} µs, raw sig ${raw.toFixed(0)} µs, ratio ${row.ratio.toFixed(2)}, enclave RSS max ${row.rss.toFixed(1)} MB (idle ${r.rssIdleMb.enclave.toFixed(1)}), ${l.opsPerSec} ops/s, ${l.failed} failed`)
  }
}
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
for (const [name, rs] of rows) {
  const f = (k: keyof Row, d = 0) => `${med(rs.map((r) => r[k])).toFixed(d)} [${Math.min(...rs.map((r) => r[k])).toFixed(d)}–${Math.max(...rs.map((r) => r[k])).toFixed(d)}]`
  console.log(`${name.padEnd(10)} median [min–max]: enclave µs ${f('enclave')}, host µs ${f('host')}, ratio ${f('ratio', 2)}, RSS MB ${f('rss', 1)}, ops/s ${f('opsPerSec')}`)
}
