/**
 * Issue 18 (cpu18): interleaved A/B of the enclave hot path in process at 64 in flight (session MACs, as `make bench`),
 * each checkout's own scripts/bench/enclaveInProcess.ts in a fresh child, rotating order. Prints CPU µs per request.
 *
 *   npx tsx scripts/bench/cpuAb.ts ROUNDS N dirA dirB ...
 */
import { execFileSync } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { loadavg } from 'node:os'

const here = path.dirname(fileURLToPath(import.meta.url))
const [rounds, n, ...dirs] = [Number(process.argv[2] ?? 3), Number(process.argv[3] ?? 6000), ...process.argv.slice(4)]
const res: Record<string, number[]> = {}
for (let round = 0; round < rounds; round++)
  for (let i = 0; i < dirs.length; i++) {
    const dir = path.resolve(dirs[(i + round) % dirs.length]!)
    const code = `const { benchEnclaveInProcess } = await import(${JSON.stringify(path.join(dir, 'scripts/bench/enclaveInProcess.ts'))})
const r = await benchEnclaveInProcess(${n}, 'session'); console.log(JSON.stringify(r[1]))`
    const out = execFileSync(path.join(here, '../../node_modules/.bin/tsx'), ['--input-type=module', '-e', code], { cwd: dir, encoding: 'utf8' })
    const j = JSON.parse(out.trim().split('\n').pop()!) as { cpuUs: number; opsPerSec: number }
    ;(res[dir] ??= []).push(j.cpuUs)
    console.log(`round ${round} ${dir}: ${j.cpuUs.toFixed(1)} µs CPU per request at 64 in flight (${Math.round(j.opsPerSec)}/s, load ${loadavg()[0]!.toFixed(1)})`)
  }
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
for (const d of dirs) {
  const xs = res[path.resolve(d)]!
  console.log(`${d}: median ${med(xs).toFixed(1)} µs (${xs.map((x) => x.toFixed(0)).join(' / ')})`)
}
