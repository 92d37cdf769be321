/**
 * One profiled c = 64 window (`--cpu-prof` in the enclave and the host), the load generator on session MACs as the
 * SDK (or `ed25519`): CPU µs per answered request of each process and where their self time goes (top functions and
 * modules, esbuild bundles mapped back to source modules). The same as `make bench`'s step 6, alone.
 *
 *   npx tsx scripts/bench/profileE2e.ts [session|ed25519] [windowMs=8000] [top=25]
 */
import { mkdtempSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { benchEndToEnd } from './benchEndToEnd.js'
import { formatCpuProfileSummary } from './formatCpuProfileSummary.js'
import { summarizeCpuProfile } from './summarizeCpuProfile.js'

const auth = process.argv[2] === 'ed25519' ? 'ed25519' : 'session'
const dir = mkdtempSync(path.join(tmpdir(), 'bursar-cpuprof-'))
const run = await benchEndToEnd({
  levels: [Number(process.env.PROFILE_C ?? 64)], // PROFILE_C=1: one in flight (tail34: every request its own turn)
  auth,
  warmupMs: 1500,
  durationMs: Number(process.argv[3] ?? 8000),
  nodeArgs: ['--cpu-prof', '--cpu-prof-dir', dir],
  log: (s) => console.log(s),
})
const top = Number(process.argv[4] ?? 25)
const fileOf = (pid: number) => readdirSync(dir).find((f) => f.includes(`.${pid}.`) && f.endsWith('.cpuprofile'))
// Only the load: from the first to the last sample of the agent sign path (enclave handleAgentSign, host AgentSignOnce's idOf).
for (const [name, pid, span] of [['enclave', run.pids.enclave, 'handleAgentSign'], ['host', run.pids.host, 'idOf']] as const) {
  const f = fileOf(pid)
  console.log(f ? formatCpuProfileSummary(`${name} (${path.join(dir, f)})`, summarizeCpuProfile(path.join(dir, f), top, span)) : `${name}: no profile in ${dir}`)
}
