/**
 * `make fuzz SEED= COUNT=`: fuzzes frames, every request and owner-act schema
 * (and the enclave's decoding), policy files, attestation documents and KMS
 * CMS; a slice of COUNT goes as frames into a live enclave. Env: SEED (default
 * 1), COUNT (default 1,000,000), FUZZ_LIVE (live frames), FUZZ_WORKERS
 * (default 2), FUZZ_HANG_MS (per-input bound, default 1000), FUZZ_MAX_RSS_MB
 * (default 1024). `--json` prints the figures as JSON.
 */
import { runFuzz } from '../test/fuzz/runFuzz.js'

const env = (k: string, d: number) => Number(process.env[k] && process.env[k] !== '' ? process.env[k] : d)
const seed = env('SEED', 1)
const count = env('COUNT', 1_000_000)
const maxRss = env('FUZZ_MAX_RSS_MB', 1024)
const live = process.env.FUZZ_LIVE ? env('FUZZ_LIVE', 0) : undefined
const workers = env('FUZZ_WORKERS', 2)
const hangMs = env('FUZZ_HANG_MS', 1000)
for (const [k, v] of Object.entries({ SEED: seed, COUNT: count, FUZZ_WORKERS: workers, FUZZ_HANG_MS: hangMs, FUZZ_MAX_RSS_MB: maxRss })) {
  if (!Number.isInteger(v) || v < 0) {
    console.error(`${k} must be a non-negative integer (e.g. make fuzz SEED=1 COUNT=1000000)`)
    process.exit(2)
  }
}
console.error(`fuzz: ${count.toLocaleString('en')} inputs, seed ${seed}, ${workers} in-process shards + a live enclave`)
const f = await runFuzz({ seed, count, workers, hangMs, ...(live !== undefined ? { live } : {}), onProgress: (l) => console.error(l) })
const liveOk = !f.live || (f.live.enclaveAlive && f.live.honestAfter)
const pass = f.crashes === 0 && f.hangs === 0 && f.peakRssMb <= maxRss && liveOk
if (process.argv.includes('--json')) console.log(JSON.stringify({ pass, maxRssMb: maxRss, ...f }, null, 2))
else {
  console.log(`
fuzz ${pass ? 'PASSED' : 'FAILED'} (seed ${seed})
  inputs     ${f.inputs.toLocaleString('en')} (${f.inProcess.toLocaleString('en')} in-process, ${(f.live?.frames ?? 0).toLocaleString('en')} frames into a live enclave)
  crashes    ${f.crashes}
  hangs      ${f.hangs} (per-input bound ${hangMs} ms in-process, 5 s per live frame)
  peak RSS   ${f.peakRssMb} MB (bound ${maxRss} MB)
  live       ${f.live ? `enclave ${f.live.enclaveAlive ? 'up' : 'DOWN'}, honest payment after: ${f.live.honestAfter ? 'signed and verified' : 'FAILED'}, RSS peak ${f.live.peakRssMb} MB` : 'skipped'}
  time       ${f.seconds} s
  per target:`)
  for (const t of f.targets) console.log(`    ${t.name.padEnd(22)} ${String(t.inputs).padStart(9)} inputs  crashes ${t.crashes}  hangs ${t.hangs}  slowest ${t.slowestMs} ms`)
  if (f.live) console.log(`    live codes: ${Object.entries(f.live.codes).sort((a, b) => b[1] - a[1]).slice(0, 12).map(([c, n]) => `${c} ${n}`).join(', ')}`)
  for (const x of [...f.findings, ...(f.live?.crashes ?? []).map((c) => ({ target: 'live', index: c.index, seed, message: `${c.code}: ${c.message}` }))])
    console.log(`  ! ${x.target} #${x.index} (seed ${x.seed}): ${x.message}`)
}
process.exit(pass ? 0 : 1)
