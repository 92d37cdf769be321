/**
 * `make bench`: one run on this machine, printed as a table and written to
 * bench/results/<date>-<short sha>.json with the machine description.
 *   1. baseline: viem signTypedData of an EIP-3009 authorization, in process, 1 core
 *   2. end to end: agent requests → host HTTP → enclave at c = 1, 16, 64, authenticated as the SDK does (one session
 *      per agent, an HMAC per request); at c = 64 Ed25519-per-request windows alternate with the session ones
 *   3. attestation verify (cold; cached chain vs raw ES384 interleaved)   4. audit append + verify
 *   5. enclave + host RSS at c = 64, enclave decode+sign micro-bench, in-process enclave ceiling
 *   6. a profiled c = 64 run (--cpu-prof in enclave and host), top self time per process
 *   7. the agent SDK as agents run it (`bursar/agent` in its own process, interleaved with the raw baseline there),
 *      then the Python SDK (`bursar` in a Python process from .venv, interleaved with eth_account's local signature)
 * Goals are issue 18 (CPU per payment, interleaved throughput pairs, open-loop p99, p50 at c=1, RSS, attestation,
 * audit) and issue 22 (the SDK section), each printed PASS/MISS with the gap.
 * Env: BENCH_DURATION_MS (per level, default 5000), BENCH_PREWARM_MS (the c = 64 stack's unsampled run first, default 3000),
 * BENCH_SKIP_PROFILE=1, BENCH_SDK_PAIRS (default 5; the Python SDK too).
 */
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs'
import { availableParallelism, loadavg, tmpdir } from 'node:os'
import path from 'node:path'
import { benchEnclaveInProcess } from './bench/enclaveInProcess.js'
import { benchAttestation } from './bench/attestationBench.js'
import { benchAuditVerify } from './bench/auditBench.js'
import { benchBaseline } from './bench/benchBaseline.js'
import { benchEndToEnd } from './bench/benchEndToEnd.js'
import { describeMachine } from './bench/describeMachine.js'
import { formatCpuProfileSummary } from './bench/formatCpuProfileSummary.js'
import { type SummarizeCpuProfileReturnType, summarizeCpuProfile } from './bench/summarizeCpuProfile.js'
import { buildEnclave } from './buildEnclave.js'
import { benchSign } from './bench/benchSign.js'
import { benchSdk } from './bench/benchSdk.js'
import { summarizeSdk } from './bench/summarizeSdk.js'
import { benchPySdk } from './bench/benchPySdk.js'
import { formatPyProfile, summarizePySdk } from './bench/summarizePySdk.js'
import { repoRoot } from './lib/startStack.js'

const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 5000)
const LEVELS = [1, 16, 64]
const SUSTAINED_WINDOWS = 2
const say = (s = '') => process.stdout.write(`${s}\n`)
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length === 0 ? Number.NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
}
const fmt = (n: number, d = 0) => (Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }) : 'n/a')

/**
 * tail34: the stack's rate when every request is its own turn, from the c = 1 level's CPU µs per request: the enclave
 * and the host each alone on one core, and the three processes together on the machine's cores; the least of these.
 */
function capacityAtOnePerTurn(c1: { cpuUsPerRequest: Record<string, number> } | undefined): number {
  const us = c1?.cpuUsPerRequest ?? {}
  const [enclave, host, gen] = [us.enclave ?? Number.NaN, us.host ?? Number.NaN, us.loadGenerator ?? 0]
  return Math.min(1e6 / enclave, 1e6 / host, (1e6 * availableParallelism()) / (enclave + host + gen))
}

const t0 = Date.now()
const machine = describeMachine()
const loadAverageAtStart = loadavg().map((x) => Math.round(x * 100) / 100)
say(`bursar bench — ${machine.cpuModel}, ${machine.cores} cores, ${fmt(machine.ramMb / 1024, 1)} GB RAM, Node ${machine.node}, ${machine.platform}, git ${machine.gitSha}`)
say('building dist/ (enclave + host bundles)…')
await buildEnclave({ quiet: true })

say('1. baseline: viem signTypedData (EIP-3009), in process…')
// Measured twice (now and after the end-to-end runs), the better one kept: on a shared machine the
// divisor should be this core's undisturbed rate, or every ratio comes out flattering.
const baselineRuns = [await benchBaseline({ durationMs: 3000 })]

say(`2. end to end at c = ${LEVELS.join(', ')} (fresh stack each; ${DURATION_MS / 1000} s after a 1.5 s warm-up)…`)
// A fresh stack per level keeps levels comparable: the sealed state grows with every spend (see "sustained" below).
const runs: Awaited<ReturnType<typeof benchEndToEnd>>[] = []
// At c = 64 the baseline is measured BETWEEN the end-to-end windows on the same (idle) stack: A B A B … A, each e2e
// window divided by the mean of the baseline windows either side of it (issue 18: ratios that hold on a shared machine).
const pairBaselines: Awaited<ReturnType<typeof benchBaseline>>[] = []
for (const c of LEVELS) {
  // The top level keeps going for SUSTAINED_WINDOWS more windows on the same, growing state.
  const top = c === Math.max(...LEVELS)
  // At the top level, session-MAC windows (what the SDK sends; the headline) alternate with Ed25519-per-request
  // windows (the wire before sessions, reported beside it): S E S E S, every window between two baseline windows.
  const auth = top ? Array.from({ length: 1 + 2 * SUSTAINED_WINDOWS }, (_, i) => (i % 2 ? 'ed25519' : 'session') as 'session' | 'ed25519') : ['session' as const]
  const levels = auth.map(() => c)
  runs.push(
    await benchEndToEnd({
      levels,
      auth,
      warmupMs: 1500,
      durationMs: DURATION_MS,
      log: say,
      ...(top
        ? {
            // The first window on a fresh stack cost 12–16 % more CPU per request than the later ones in the quiet runs
            // (03e2046, f0512c0; more on a loaded machine). An unsampled run first shrank that in one loaded run
            // (first pair 2.34–2.57× → 1.68× against ~1.3× later), not to zero: the cause is not pinned down.
            // cpu36: what the first windows still pay is V8's JIT on background threads (20–200 µs per answer in each
            // process over the first ~10,000 answers; docs/bench.md "CPU per payment by perf"): BENCH_PREWARM_MS=30000 for steady state.
            prewarmMs: Number(process.env.BENCH_PREWARM_MS ?? 3000),
            between: async () => {
              pairBaselines.push(await benchBaseline({ durationMs: 1500 }))
            },
            // Latency without coordinated omission: Poisson arrivals at half the capacity just measured at c = 64 (the
            // goal's rate, issue 18's definition). tail34: at c = 64 a turn holds ~30 requests (one checkpoint signature,
            // one commit, one frame write for all); in the open loop it holds 1–few, so each request pays those fixed
            // costs and the c = 64 rate is not what the stack can do there. A second window, reported beside and not a
            // goal, runs at half the capacity at ONE request per turn (the c = 1 level's CPU per request: each process
            // alone on a core, and all three on the machine's cores).
            openLoopRates: (closed: { opsPerSec: number }[]) => [0.5 * median(closed.map((l) => l.opsPerSec)), 0.5 * capacityAtOnePerTurn(runs[0]?.levels[0])].filter(Number.isFinite),
          }
        : {
            // lat41: the lower levels (c = 1, 16) on their fresh stacks are prewarmed too, at 64 in flight (~10,000
            // answers in 5 s quiet): without it the c = 1 row measured V8's JIT warm-up on background threads, not a
            // lone request (c1Warm.ts, 3 interleaved pairs of fresh stacks, load 10–13: CPU per request prewarmed ÷
            // fresh enclave 0.63, host 0.73, load generator 0.69; p50 0.66). A host runs for days: its steady state is
            // what an agent meets. BENCH_PREWARM_LOW_MS=0 measures a fresh stack as before.
            prewarmMs: Number(process.env.BENCH_PREWARM_LOW_MS ?? 5000),
            prewarmConcurrency: 64,
          }),
    }),
  )
}
const e2e = {
  levels: runs.map((r) => r.levels[0]!),
  windows: runs[runs.length - 1]!.levels,
  rssMaxMb: runs[runs.length - 1]!.rssMaxMb,
  rssIdleMb: runs[runs.length - 1]!.rssIdleMb,
  stateAtEnd: runs[runs.length - 1]!.stateAtEnd,
  openLoop: runs[runs.length - 1]!.openLoop,
  agents: runs[0]!.agents,
}
// Pair i: e2e c=64 window i ÷ the mean of the baseline windows before and after it.
const allPairs = e2e.windows.map((l, i) => {
  const a = pairBaselines[i]
  const b = pairBaselines[i + 1] ?? a
  const rawOps = ((a?.opsPerSec ?? Number.NaN) + (b?.opsPerSec ?? Number.NaN)) / 2
  const rawCpuUs = ((a?.cpuUsPerOp ?? Number.NaN) + (b?.cpuUsPerOp ?? Number.NaN)) / 2
  const cpuUs = (l.cpuUsPerRequest.enclave ?? Number.NaN) + (l.cpuUsPerRequest.host ?? Number.NaN)
  return { auth: l.auth, throughput: l.opsPerSec / rawOps, cpuPerPayment: cpuUs / rawCpuUs, rawOps, rawCpuUs, enclaveUs: l.cpuUsPerRequest.enclave, hostUs: l.cpuUsPerRequest.host }
})
// The headline pairs are the session windows (what the SDK sends); the Ed25519 windows between them are reported beside.
const pairs = allPairs.filter((p) => p.auth === 'session')
const edPairs = allPairs.filter((p) => p.auth === 'ed25519')
const spread = (xs: number[]) => ({ min: Math.min(...xs), median: median(xs), max: Math.max(...xs) })
const pairThroughput = spread(pairs.map((p) => p.throughput))
const pairCpu = spread(pairs.map((p) => p.cpuPerPayment))
const edPairThroughput = spread(edPairs.map((p) => p.throughput))
const edPairCpu = spread(edPairs.map((p) => p.cpuPerPayment))
const usMedian = (ps: typeof allPairs, k: 'enclaveUs' | 'hostUs') => median(ps.map((p) => p[k] ?? Number.NaN))

baselineRuns.push(await benchBaseline({ durationMs: 3000 }), ...pairBaselines)
const baseline = { ...baselineRuns.reduce((a, b) => (b.opsPerSec > a.opsPerSec ? b : a)), runs: baselineRuns.map((r) => r.opsPerSec) }
say(`   baseline runs: ${baseline.runs.join(', ')} ops/s; using ${baseline.opsPerSec}`)

say('3. enclave micro-benches (decode+sign; hot path in process)…')
const sign = await benchSign({ durationMs: 2500 })
const inProcess = await benchEnclaveInProcess(4000)

say('4. attestation verification…')
const attestation = await benchAttestation({ windowMs: 300, pairs: 5 })
say('5. audit chain, 100,000 entries…')
const audit = benchAuditVerify(100_000)

let profile: { enclave: SummarizeCpuProfileReturnType; host: SummarizeCpuProfileReturnType; dir: string; run: (typeof e2e.levels)[number] } | null = null
if (process.env.BENCH_SKIP_PROFILE !== '1') {
  say('6. profiled end-to-end run at c = 64 (--cpu-prof in enclave and host)…')
  const dir = mkdtempSync(path.join(tmpdir(), 'bursar-cpuprof-'))
  const run = await benchEndToEnd({ levels: [64], warmupMs: 1500, durationMs: Math.max(DURATION_MS, 8000), nodeArgs: ['--cpu-prof', '--cpu-prof-dir', dir], log: say })
  const fileOf = (pid: number) => readdirSync(dir).find((f) => f.includes(`.${pid}.`) && f.endsWith('.cpuprofile'))
  const enclaveFile = fileOf(run.pids.enclave)
  const hostFile = fileOf(run.pids.host)
  if (enclaveFile && hostFile)
    // Only the load: from the first to the last sample of the agent sign path (not start-up, owner acts, session opens).
    profile = { enclave: summarizeCpuProfile(path.join(dir, enclaveFile), 15, 'handleAgentSign'), host: summarizeCpuProfile(path.join(dir, hostFile), 15, 'idOf'), dir, run: run.levels[0]! }
  else say(`   (no profile written in ${dir}: ${readdirSync(dir).join(', ')})`)
}

say(`7. agent SDK: bursar/agent in one agent process vs raw viem signatures there, ${Number(process.env.BENCH_SDK_PAIRS ?? 5)} interleaved pairs…`)
const sdkRun = await benchSdk({ pairs: Number(process.env.BENCH_SDK_PAIRS ?? 5), log: say })
const sdk = summarizeSdk(sdkRun)
say(`7b. Python SDK: bursar (clients/python) in one Python agent process vs raw eth_account signatures there, ${Number(process.env.BENCH_SDK_PAIRS ?? 5)} interleaved pairs…`)
const pyRun = await benchPySdk({ pairs: Number(process.env.BENCH_SDK_PAIRS ?? 5), profileMs: 3000, log: say })
const pySdk = summarizePySdk(pyRun)

// ---- table ----
const base = baseline.opsPerSec
const rows: string[][] = [['measure', 'value', 'ratio / note']]
rows.push(['baseline: viem signTypedData EIP-3009, 1 core in process', `${fmt(base)} ops/s`, '1.00× (divisor)'])
for (const l of e2e.levels)
  rows.push([
    `end to end c=${l.concurrency} (SDK request → host HTTP → enclave)`,
    `${fmt(l.opsPerSec)} ops/s`,
    `${(l.opsPerSec / base).toFixed(2)}×  p50 ${fmt(l.latencyMs.p50, 2)} ms  p99 ${fmt(l.latencyMs.p99, 2)} ms  fail ${l.failed}  cpu µs/req enclave ${l.cpuUsPerRequest.enclave} host ${l.cpuUsPerRequest.host} loadgen ${l.cpuUsPerRequest.loadGenerator}  (cpu% ${l.cpuPct.enclave}/${l.cpuPct.host}/${l.cpuPct.loadGenerator}, others ${l.cpuPct.others})`,
  ])
for (const [i, l] of e2e.windows.entries())
  if (i > 0)
    rows.push([
      `  sustained c=64, window ${i + 1}, ${l.auth === 'session' ? 'session MAC' : 'Ed25519 per request'} (same stack, state still growing)`,
      `${fmt(l.opsPerSec)} ops/s`,
      `${(l.opsPerSec / base).toFixed(2)}×  p50 ${fmt(l.latencyMs.p50, 2)} ms  p99 ${fmt(l.latencyMs.p99, 2)} ms  fail ${l.failed}`,
    ])
rows.push([
  '  c=64 ÷ baseline, interleaved pairs (min / median / max)',
  `${pairs.length} pairs`,
  `session MAC (as the SDK): throughput ${pairThroughput.min.toFixed(2)} / ${pairThroughput.median.toFixed(2)} / ${pairThroughput.max.toFixed(2)}×; CPU per payment (enclave + host) ÷ CPU per raw signature ${pairCpu.min.toFixed(2)} / ${pairCpu.median.toFixed(2)} / ${pairCpu.max.toFixed(2)}× (median µs enclave ${fmt(usMedian(pairs, 'enclaveUs'))} host ${fmt(usMedian(pairs, 'hostUs'))})`,
])
if (edPairs.length)
  rows.push([
    '  the same, Ed25519 per request (windows between them)',
    `${edPairs.length} pairs`,
    `throughput ${edPairThroughput.min.toFixed(2)} / ${edPairThroughput.median.toFixed(2)} / ${edPairThroughput.max.toFixed(2)}×; CPU per payment ${edPairCpu.min.toFixed(2)} / ${edPairCpu.median.toFixed(2)} / ${edPairCpu.max.toFixed(2)}× (median µs enclave ${fmt(usMedian(edPairs, 'enclaveUs'))} host ${fmt(usMedian(edPairs, 'hostUs'))})`,
  ])
// tail34: how loaded the stack is in each open-loop window, against the c = 64 windows (CPU per request, requests per
// host commit) and against its capacity at one request per turn.
const c64Us = (k: string) => median(e2e.windows.filter((w) => w.auth === 'session').map((w) => w.cpuUsPerRequest[k] ?? Number.NaN))
const c64PerCommit = median(e2e.windows.filter((w) => w.auth === 'session' && w.commits).map((w) => w.commits!.entries / Math.max(1, w.commits!.commits)))
const onePerTurn = capacityAtOnePerTurn(e2e.levels.find((l) => l.concurrency === 1))
for (const [i, l] of e2e.openLoop.entries()) {
  const perCommit = l.commits ? (l.commits.entries / Math.max(1, l.commits.commits)).toFixed(1) : 'n/a'
  rows.push([
    `  open loop, Poisson ${fmt(l.ratePerSec ?? 0)}/s (${i === 0 ? '½ of c=64 capacity: the goal' : '½ of the capacity at one request per turn'})`,
    `${fmt(l.opsPerSec)} ops/s`,
    `p50 ${fmt(l.latencyMs.p50, 2)} ms  p99 ${fmt(l.latencyMs.p99, 2)} ms  p99.9 ${fmt(l.latencyMs.p999, 2)} ms  max ${fmt(l.latencyMs.max, 2)} ms  fail ${l.failed}  (latency from the scheduled send time; the generator itself sent late by p50 ${fmt(l.sendLateMs?.p50 ?? Number.NaN, 2)} / p99 ${fmt(l.sendLateMs?.p99 ?? Number.NaN, 2)} ms)`,
  ])
  rows.push([
    `    its load: ${fmt((100 * (l.ratePerSec ?? 0)) / onePerTurn)} % of the capacity at one request per turn (${fmt(onePerTurn)}/s)`,
    `${perCommit} req/commit`,
    `cpu% enclave ${l.cpuPct.enclave} host ${l.cpuPct.host} loadgen ${l.cpuPct.loadGenerator} machine ${l.cpuPct.machine} of ${100 * machine.cores} (others ${l.cpuPct.others}); cpu µs/req enclave ${l.cpuUsPerRequest.enclave} host ${l.cpuUsPerRequest.host} = ${((l.cpuUsPerRequest.enclave ?? 0) / c64Us('enclave')).toFixed(2)}× / ${((l.cpuUsPerRequest.host ?? 0) / c64Us('host')).toFixed(2)}× c=64's (${fmt(c64PerCommit, 1)} req/commit there)`,
  ])
}
{
  const l = e2e.levels[e2e.levels.length - 1]!
  const enc = l.cpuUsPerRequest.enclave ?? Number.NaN
  const all = enc + (l.cpuUsPerRequest.host ?? 0) + (l.cpuUsPerRequest.loadGenerator ?? 0)
  rows.push([
    '  ceilings from CPU per request at c=64',
    `${fmt(1e6 / enc)} ops/s`,
    `enclave alone on one core; all three processes on ${machine.cores} cores: ${fmt((1e6 * machine.cores) / all)} ops/s`,
  ])
}
rows.push([
  '  state after the c=64 run',
  `${fmt(e2e.stateAtEnd.auditEntries)} entries`,
  `newest sealed snapshot ${fmt(e2e.stateAtEnd.snapshotBytes / 1024)} KiB (v${e2e.stateAtEnd.snapshots})`,
])
for (const s of inProcess) rows.push([s.name, `${fmt(s.opsPerSec)} ops/s`, `${(s.opsPerSec / base).toFixed(2)}×`])
for (const s of sign) rows.push([s.name, `${fmt(s.opsPerSec)} ops/s`, `${(s.opsPerSec / base).toFixed(2)}×`])
for (const a of attestation.rows) rows.push([a.name, `${fmt(a.opsPerSec)} ops/s`, `${a.ratioToRawEs384.toFixed(2)}× raw ES384 (CPU ${fmt(a.cpuUsPerOp)} µs/op)`])
for (const a of audit) rows.push([`${a.name} (100k)`, `${fmt(a.opsPerSec)} entries/s`, `${a.seconds} s`])
rows.push(['enclave RSS, max during c=64', `${fmt(e2e.rssMaxMb.enclave, 1)} MB`, `idle after setup ${fmt(e2e.rssIdleMb.enclave, 1)} MB`])
rows.push(['host RSS, max during c=64', `${fmt(e2e.rssMaxMb.host, 1)} MB`, `idle after setup ${fmt(e2e.rssIdleMb.host, 1)} MB`])
rows.push(...sdk.rows)
rows.push(...pySdk.rows)
const w0 = Math.max(...rows.map((r) => r[0]!.length))
const w1 = Math.max(...rows.map((r) => r[1]!.length))
say()
for (const [i, r] of rows.entries()) {
  say(`${r[0]!.padEnd(w0)}  ${r[1]!.padStart(w1)}  ${r[2]}`)
  if (i === 0) say('-'.repeat(w0 + w1 + 40))
}

// ---- goals ----
const cached = attestation.cachedRatio
const nitroCached = attestation.nitroRatio ? `; real Nitro doc ${attestation.nitroRatio.median.toFixed(2)}×` : ''
const goal = (name: string, pass: boolean, actual: string, gap: string) => ({ name, pass, actual, gap })
const c1 = e2e.levels.find((l) => l.concurrency === 1)
const open = e2e.openLoop[0]
const auditVerify = audit.find((a) => a.name.includes('verify (CLI'))?.opsPerSec ?? Number.NaN
const gapX = (have: number, want: number, more: boolean) => (more ? `needs ${(want / have).toFixed(2)}× more` : `needs ${(have / want).toFixed(2)}× less`)
const goals = [
  goal(
    'CPU per payment (enclave + host, session MAC) at c=64 ≤ 1.0× raw sig.',
    pairCpu.median <= 1,
    `${pairCpu.median.toFixed(2)}× (pairs ${pairCpu.min.toFixed(2)}–${pairCpu.max.toFixed(2)})`,
    pairCpu.median <= 1 ? '' : gapX(pairCpu.median, 1, false),
  ),
  goal(
    'e2e throughput at c=64 ≥ 1.25× baseline (interleaved pairs)',
    pairThroughput.median >= 1.25,
    `${pairThroughput.median.toFixed(2)}× (pairs ${pairThroughput.min.toFixed(2)}–${pairThroughput.max.toFixed(2)})`,
    pairThroughput.median >= 1.25 ? '' : gapX(pairThroughput.median, 1.25, true),
  ),
  goal(
    'open loop at ½ capacity: p99 ≤ 5 ms',
    (open?.latencyMs.p99 ?? Number.POSITIVE_INFINITY) <= 5,
    open ? `${fmt(open.latencyMs.p99, 2)} ms at ${fmt(open.ratePerSec ?? 0)}/s (max ${fmt(open.latencyMs.max, 1)} ms)` : 'not run',
    open && open.latencyMs.p99 > 5 ? `${fmt(open.latencyMs.p99 - 5, 2)} ms over` : '',
  ),
  goal('p50 at c=1 ≤ 1 ms', (c1?.latencyMs.p50 ?? Number.POSITIVE_INFINITY) <= 1, `${fmt(c1?.latencyMs.p50 ?? Number.NaN, 2)} ms`, (c1?.latencyMs.p50 ?? 0) > 1 ? `${fmt((c1?.latencyMs.p50 ?? 0) - 1, 2)} ms over` : ''),
  goal('enclave RSS under load ≤ 96 MB', e2e.rssMaxMb.enclave <= 96, `${fmt(e2e.rssMaxMb.enclave, 1)} MB`, e2e.rssMaxMb.enclave <= 96 ? '' : `${fmt(e2e.rssMaxMb.enclave - 96, 1)} MB over`),
  goal(
    'cached attestation verify ≥ 0.9× raw ES384 (interleaved pairs)',
    cached.median >= 0.9,
    `${cached.median.toFixed(2)}× (pairs ${cached.min.toFixed(2)}–${cached.max.toFixed(2)}${nitroCached})`,
    cached.median >= 0.9 ? '' : gapX(cached.median, 0.9, true),
  ),
  goal('audit verify ≥ 250,000 entries/s (one core)', auditVerify >= 250_000, `${fmt(auditVerify)} entries/s`, auditVerify >= 250_000 ? '' : gapX(auditVerify, 250_000, true)),
  ...sdk.goals,
  ...pySdk.goals,
]
say()
say('goals:')
for (const g of goals) say(`  ${g.pass ? 'PASS' : 'MISS'}  ${g.name.padEnd(56)} ${g.actual}${g.gap ? `  (${g.gap})` : ''}`)
for (const n of [...sdk.notes, ...pySdk.notes]) say(`  ${n}`)

const noisy = Math.max(...e2e.levels.map((l) => l.cpuPct.others ?? 0), ...e2e.windows.map((l) => l.cpuPct.others ?? 0))
if (noisy > 25) say(`  NOTE: other processes used up to ${noisy}% of a core during the end-to-end runs: this machine was shared, figures are low.`)

if (profile) {
  say()
  say(`profile of a c=64 run (${fmt(profile.run.opsPerSec)} ops/s while profiled; files in ${profile.dir}):`)
  say(formatCpuProfileSummary('enclave', profile.enclave))
  say(formatCpuProfileSummary('host', profile.host))
}
if (pyRun.profile) {
  say()
  say(formatPyProfile(pyRun))
}

// ---- JSON ----
const day = new Date().toISOString().slice(0, 10)
const outDir = path.join(repoRoot, 'bench/results')
mkdirSync(outDir, { recursive: true })
const outFile = path.join(outDir, `${day}-${machine.gitSha}.json`)
const stripSamples = ({ samples: _s, ...rest }: (typeof e2e.levels)[number]) => rest
writeFileSync(
  outFile,
  `${JSON.stringify(
    {
      date: new Date().toISOString(),
      machine,
      loadAverageAtStart,
      othersCpuPctMax: noisy,
      durationMsPerLevel: DURATION_MS,
      baseline,
      endToEnd: {
        agents: e2e.agents.length,
        wallets: new Set(e2e.agents.map((a) => a.wallet)).size,
        levels: e2e.levels.map((l) => ({ ...stripSamples(l), ratioToBaseline: Math.round((l.opsPerSec / base) * 100) / 100 })),
        sustainedC64: e2e.windows.map(stripSamples),
        pairsC64: allPairs,
        pairThroughput,
        pairCpuPerPayment: pairCpu,
        ed25519PairThroughput: edPairThroughput,
        ed25519PairCpuPerPayment: edPairCpu,
        openLoop: e2e.openLoop.map(stripSamples),
        // tail34: the rate when every request is its own turn (c = 1's CPU per request); the second open-loop window runs at half of it.
        capacityAtOnePerTurn: Math.round(onePerTurn),
        stateAfterC64: e2e.stateAtEnd,
        rssMaxMbAtC64: e2e.rssMaxMb,
        rssIdleMb: e2e.rssIdleMb,
      },
      enclaveInProcess: inProcess,
      sign,
      attestation,
      audit,
      goals,
      profile: profile && { c64: stripSamples(profile.run), enclave: profile.enclave, host: profile.host },
      agentSdk: sdk.json,
      pythonSdk: pySdk.json,
      wallSeconds: Math.round((Date.now() - t0) / 1000),
    },
    null,
    2,
  )}\n`,
)
say()
say(`wrote ${path.relative(repoRoot, outFile)} (${Math.round((Date.now() - t0) / 1000)} s)`)
