/**
 * Bisects the enclave's own hot path across commits, without sockets or other processes: each argument is a
 * checkout; its scripts/bench/enclaveInProcess.ts runs in a child process (that commit's enclave code), bracketed by
 * raw viem signatures in the same child. Figure: raw signatures per second ÷ enclave requests per second
 * = the enclave's cost per payment in raw signatures (single thread: the in-process bench signs inline).
 *
 *   npx tsx scripts/bench/bisectInProcess.ts /tmp/wt-a /tmp/wt-b ...     (BISECT_ROUNDS=4)
 */
import { execFileSync } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const here = path.dirname(fileURLToPath(import.meta.url))
const dirs = process.argv.slice(2)
const rounds = Number(process.env.BISECT_ROUNDS ?? 4)
const child = `
const { benchEnclaveInProcess } = await import(${JSON.stringify('PLACEHOLDER')})
const { rawSignatureCpuUs } = await import(${JSON.stringify(path.join(here, 'rawSignatureCpu.ts'))})
const a = rawSignatureCpuUs(700)
const r = await benchEnclaveInProcess(3000)
const b = rawSignatureCpuUs(700)
console.log(JSON.stringify({ raw: (a.opsPerSec + b.opsPerSec) / 2, c1: r[0].opsPerSec, c64: r[1].opsPerSec }))
`
const res: Record<string, { c1: number[]; c64: number[] }> = {}
for (let round = 0; round < rounds; round++)
  for (let i = 0; i < dirs.length; i++) {
    const dir = path.resolve(dirs[(i + round) % dirs.length]!)
    const code = child.replace(JSON.stringify('PLACEHOLDER'), JSON.stringify(path.join(dir, 'scripts/bench/enclaveInProcess.ts')))
    const out = execFileSync(path.join(here, '../../node_modules/.bin/tsx'), ['--input-type=module', '-e', code], { cwd: dir, encoding: 'utf8' })
    const j = JSON.parse(out.trim().split('\n').pop()!) as { raw: number; c1: number; c64: number }
    const k = path.basename(dir)
    res[k] ??= { c1: [], c64: [] }
    res[k].c1.push(j.raw / j.c1)
    res[k].c64.push(j.raw / j.c64)
    console.log(`round ${round} ${k}: raw ${Math.round(j.raw)}/s; enclave in process c=1 ${Math.round(j.c1)}/s = ${(j.raw / j.c1).toFixed(2)} raw sigs per payment, c=64 ${Math.round(j.c64)}/s = ${(j.raw / j.c64).toFixed(2)}`)
  }
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
console.log('\nmedians (enclave cost per payment in raw viem signatures, in process, wall time):')
for (const d of dirs) {
  const k = path.basename(d)
  console.log(`${k.padEnd(10)} c=1 ${med(res[k]!.c1).toFixed(2)}  c=64 ${med(res[k]!.c64).toFixed(2)}`)
}
