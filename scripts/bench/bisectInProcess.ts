/**
 * Bisects the enclave's own hot path across commits, without sockets or other processes: each argument is a
 * checkout; its scripts/bench/enclaveInProcess.ts runs in a child process (that commit's enclave code), bracketed by
 * raw viem signatures in the same child. Figure: CPU per request (the bench run at 1,000 and at 3,000 requests, the
 * difference divided by 2,000, so setup cancels) ÷ CPU per raw signature. CPU, not wall time: the machine is shared.
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
// CPU, not wall time (the machine is shared): the same bench at two sizes, so setup cancels out of the difference.
const cpu = () => { const u = process.cpuUsage(); return u.user + u.system }
const a = rawSignatureCpuUs(700)
const c0 = cpu()
await benchEnclaveInProcess(1000)
const c1 = cpu()
await benchEnclaveInProcess(3000)
const c2 = cpu()
const b = rawSignatureCpuUs(700)
const perRequest = (c2 - c1 - (c1 - c0)) / 2000
console.log(JSON.stringify({ rawUs: (a.cpuUs + b.cpuUs) / 2, perRequestUs: perRequest }))
`
const res: Record<string, number[]> = {}
for (let round = 0; round < rounds; round++)
  for (let i = 0; i < dirs.length; i++) {
    const dir = path.resolve(dirs[(i + round) % dirs.length]!)
    const code = child.replace(JSON.stringify('PLACEHOLDER'), JSON.stringify(path.join(dir, 'scripts/bench/enclaveInProcess.ts')))
    const out = execFileSync(path.join(here, '../../node_modules/.bin/tsx'), ['--input-type=module', '-e', code], { cwd: dir, encoding: 'utf8' })
    const j = JSON.parse(out.trim().split('\n').pop()!) as { rawUs: number; perRequestUs: number }
    const k = path.basename(dir)
    ;(res[k] ??= []).push(j.perRequestUs / j.rawUs)
    console.log(`round ${round} ${k}: raw signature ${Math.round(j.rawUs)} µs CPU; enclave hot path in process ${Math.round(j.perRequestUs)} µs CPU per request (incl. ~50 µs building it) = ${(j.perRequestUs / j.rawUs).toFixed(2)}× raw`)
  }
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
console.log('\nmedians (CPU per request of the enclave hot path in process ÷ CPU per raw viem signature):')
for (const d of dirs) {
  const k = path.basename(d)
  const xs = res[k]!
  console.log(`${k.padEnd(10)} ${med(xs).toFixed(2)}×  (${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)})`)
}
