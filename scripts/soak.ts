/**
 * `make soak`: the crash soak (test/soak/runSoak.ts) with progress and figures.
 * Env: SOAK_CYCLES (default 100), SEED (default 1), SOAK_AGENTS (default 3), SOAK_TARGETS (default enclave,host,both). `--json` prints the figures as JSON.
 */
import { runSoak } from '../test/soak/runSoak.js'

const cycles = Number(process.env.SOAK_CYCLES ?? 100)
const seed = Number(process.env.SEED ?? 1)
const agents = Number(process.env.SOAK_AGENTS ?? 3)
const targets = (process.env.SOAK_TARGETS ?? 'enclave,host,both').split(',') as Array<'enclave' | 'host' | 'both'>
const json = process.argv.includes('--json')
if (targets.some((t) => !['enclave', 'host', 'both'].includes(t))) {
  console.error('SOAK_TARGETS is a comma-separated subset of enclave,host,both')
  process.exit(2)
}
if (!Number.isInteger(cycles) || cycles < 1 || !Number.isInteger(seed) || !Number.isInteger(agents) || agents < 1) {
  console.error('SOAK_CYCLES, SOAK_AGENTS must be positive integers and SEED an integer (e.g. SOAK_CYCLES=100 SEED=1 make soak)')
  process.exit(2)
}
console.error(`crash soak: ${cycles} cycles, seed ${seed}, ${agents} agent loops, SIGKILL of ${targets.join(' / ')} at random points`)
const f = await runSoak({ cycles, seed, agents, targets, onProgress: (l) => console.error(l) })
const pass = f.failures.length === 0 && f.lost === 0 && f.duplicated === 0 && f.chainVerified && f.budgetExact && f.cycles === cycles
if (json) console.log(JSON.stringify({ pass, seed, targets, ...f }, null, 2))
else {
  console.log(`
soak ${pass ? 'PASSED' : 'FAILED'} (seed ${seed}, SIGKILL of ${targets.join(' / ')})
  cycles        ${f.cycles} (SIGKILL: enclave ${f.kills.enclave}, host ${f.kills.host}, both ${f.kills.both})
  signatures    ${f.signatures} received by agents, each verified with viem
  lost          ${f.lost}
  duplicated    ${f.duplicated}
  refused       ${f.refused} (e.g. issued before a restarted enclave's start floor)
  unanswered    ${f.unanswered} (killed in flight; never signed twice)
  audit entries ${f.auditEntries}, chain ${f.chainVerified ? 'verifies' : 'BROKEN'}
  budget        ${f.budgetExact ? 'exact to the unit' : 'NOT EXACT'}
  time          ${f.seconds} s`)
  for (const m of f.failures) console.log(`  ! ${m}`)
}
process.exit(pass ? 0 : 1)
