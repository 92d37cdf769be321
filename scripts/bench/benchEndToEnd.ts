import { rmSync } from 'node:fs'
import path from 'node:path'
import Database from 'better-sqlite3'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { type Stack, startStack } from '../lib/startStack.js'
import type { BenchAgent } from './buildPaymentRequest.js'
import { LoadGenerator } from './LoadGenerator.js'
import type { RunLoadParameters, RunLoadReturnType } from './runLoad.js'
import { type ProcessSample, ProcessSampler } from './ProcessSampler.js'
import { setupBenchAgents } from './setupBenchAgents.js'

export type BenchEndToEndParameters = {
  levels: number[]
  warmupMs?: number | undefined
  durationMs?: number | undefined
  wallets?: number | undefined
  agentsPerWallet?: number | undefined
  /** Extra node flags for the enclave and host (e.g. --cpu-prof). */
  nodeArgs?: string[] | undefined
  /** Extra node flags for the enclave only (V8 heap limits). */
  enclaveNodeArgs?: string[] | undefined
  /** Extra environment for the stack (e.g. BURSAR_SIGN_ENGINE=noble). */
  env?: Record<string, string> | undefined
  /** Where dist/ is (default: this checkout): another checkout's build, for before/after runs. */
  root?: string | undefined
  /** Sample enclave/host RSS during the run at this concurrency (default: the highest level). */
  rssAt?: number | undefined
  /** Successful responses to keep per level for independent verification. */
  collect?: number | undefined
  /** Smoke mode: this many requests per level instead of a timed window. */
  requests?: number | undefined
  log?: ((line: string) => void) | undefined
  /** Called before each level (index) and once after the last (index = levels.length), the stack idle: for interleaved baseline windows. */
  between?: ((index: number) => Promise<void>) | undefined
  /**
   * How the load generator authenticates each level's requests (runLoad's `auth`): one value for all, or one per level
   * (default 'session', as the SDK does). Sessions are opened once, before the first level, outside every sample.
   */
  auth?: NonNullable<RunLoadParameters['auth']> | NonNullable<RunLoadParameters['auth']>[] | undefined
  /**
   * An unsampled closed-loop run at the first level's concurrency and auth for this long before the first level (and
   * before the first `between`): a freshly started stack's first-time costs (JIT, first seals) stay out of the windows.
   */
  prewarmMs?: number | undefined
  /**
   * The prewarm's concurrency (default the first level's). lat41: a c = 1 level prewarmed at 64 in flight reaches
   * V8's steady state (~10,000 answers) in a few seconds; at c = 1 that would take ~15 s.
   */
  prewarmConcurrency?: number | undefined
  /** c1-42: the load generator's HTTP client (runLoad's `httpClient`: node:http, or the agent SDK's transport); default: the SDK's transport ($BENCH_HTTP_CLIENT=node: node:http). */
  httpClient?: 'node' | 'sdk' | undefined
  /** After the levels, open-loop runs on the same stack at these mean rates (Poisson arrivals; latency from the scheduled time). */
  openLoopRates?: number[] | ((closedLoop: EndToEndLevel[]) => number[]) | undefined
}

/**
 * One level's load result plus what its processes used over warm-up + window:
 * CPU % of one core, max RSS, and CPU microseconds per answered request
 * (1e6 / that is the throughput ceiling of a process given one whole core).
 */
export type EndToEndLevel = RunLoadReturnType &
  ProcessSample & {
    cpuUsPerRequest: Record<string, number>
    auth: NonNullable<RunLoadParameters['auth']>
    /** The host's store commits (group commits) and audit entries stored over warm-up + window, from its /metrics (tail34). */
    commits?: { commits: number; entries: number } | undefined
  }

export type BenchEndToEndReturnType = {
  levels: EndToEndLevel[]
  /** The open-loop runs (`openLoopRates`), in order. */
  openLoop: EndToEndLevel[]
  /** Max RSS during the levels run at `rssAt` (the highest by default). */
  rssMaxMb: { enclave: number; host: number }
  /** RSS once agents are set up, before any load. */
  rssIdleMb: { enclave: number; host: number }
  /** What the host stored by the end: audit entries and the newest sealed snapshot's size (the whole state, resealed every 1,000 entries). */
  stateAtEnd: { auditEntries: number; snapshotBytes: number; snapshots: number }
  agents: BenchAgent[]
  pids: { enclave: number; host: number; loadGenerator: number }
}

/**
 * Starts the real stack (built enclave + host bundles), creates wallets and
 * agents through owner acts, then drives /v1/agent/sign from a separate
 * load-generator process at each concurrency level; samples the enclave's
 * and host's RSS during the chosen level. Everything it spawns is stopped.
 */
export async function benchEndToEnd(params: BenchEndToEndParameters): Promise<BenchEndToEndReturnType> {
  const log = params.log ?? (() => {})
  let stack: Stack | undefined
  let load: LoadGenerator | undefined
  try {
    stack = await startStack({ nodeArgs: params.nodeArgs, enclaveNodeArgs: params.enclaveNodeArgs, env: params.env, root: params.root })
    const enclaveStarted = Date.now()
    const owner = privateKeyToAccount(generatePrivateKey())
    const agents = await setupBenchAgents({
      url: stack.url,
      owner,
      wallets: params.wallets ?? 4,
      agentsPerWallet: params.agentsPerWallet ?? 16,
    })
    log(`  ${agents.length} agents on ${params.wallets ?? 4} wallets registered with policies`)
    load = await LoadGenerator.start()
    // A fresh enclave refuses requests issued in its first 2 s; don't spend the warm-up on retries.
    await new Promise((r) => setTimeout(r, Math.max(0, enclaveStarted + 2_100 - Date.now())))
    const authOf = (index: number) => (Array.isArray(params.auth) ? (params.auth[index] ?? 'session') : (params.auth ?? 'session'))
    // Every session the levels will use is opened now (64 Ed25519-signed opens), so no sample pays for them.
    if (params.levels.some((_, i) => authOf(i) === 'session')) await load.run({ url: stack.url, agents, concurrency: 8, requests: 0, auth: 'session', httpClient: params.httpClient })
    if (params.prewarmMs)
      await load.run({ url: stack.url, agents, concurrency: params.prewarmConcurrency ?? params.levels[0]!, warmupMs: 0, durationMs: params.prewarmMs, auth: authOf(0), httpClient: params.httpClient })
    const rssAt = params.rssAt ?? Math.max(...params.levels)
    const pids = { enclave: stack.enclave.pid ?? -1, host: stack.host.pid ?? -1, loadGenerator: load.pid }
    const idle = new ProcessSampler({ enclave: pids.enclave, host: pids.host })
    idle.start()
    const { maxRssMb: idleRss } = idle.stop()
    const rssIdleMb = { enclave: idleRss.enclave ?? Number.NaN, host: idleRss.host ?? Number.NaN }
    const levels: EndToEndLevel[] = []
    const rssMaxMb = { enclave: 0, host: 0 }
    const openLoop: EndToEndLevel[] = []
    const specs = params.levels.map((c) => ({ concurrency: c, rate: undefined as number | undefined }))
    for (let index = 0; index < specs.length; index++) {
      const { concurrency, rate } = specs[index]!
      const auth = authOf(rate ? 0 : index)
      if (index <= params.levels.length) await params.between?.(index)
      const before = await persistCounts(stack.url)
      const sampler = new ProcessSampler(pids)
      sampler.start()
      const r = await load.run({
        httpClient: params.httpClient,
        ratePerSec: rate,
        url: stack.url,
        agents,
        concurrency,
        warmupMs: params.warmupMs,
        durationMs: params.durationMs,
        requests: params.requests,
        collect: params.collect,
        auth,
      })
      const used = sampler.stop()
      const after = await persistCounts(stack.url)
      const commits = before && after ? { commits: after.commits - before.commits, entries: after.entries - before.entries } : undefined
      const cpuUsPerRequest: Record<string, number> = {}
      for (const k of Object.keys(pids)) cpuUsPerRequest[k] = Math.round((used.cpuSeconds[k] ?? 0) * 1e6 / Math.max(1, r.answeredAll))
      if (concurrency === rssAt) {
        rssMaxMb.enclave = Math.max(rssMaxMb.enclave, used.maxRssMb.enclave ?? 0)
        rssMaxMb.host = Math.max(rssMaxMb.host, used.maxRssMb.host ?? 0)
      }
      const cpu = Object.entries(used.cpuPct).map(([k, v]) => `${k} ${v}%`).join(', ')
      const us = Object.entries(cpuUsPerRequest).map(([k, v]) => `${k} ${v}`).join(', ')
      const perCommit = commits ? `; ${(commits.entries / Math.max(1, commits.commits)).toFixed(1)} entries per host commit` : ''
      log(`  ${rate ? `open loop ${rate}/s` : `c=${concurrency}`} (${auth}): ${r.opsPerSec} ops/s, p50 ${r.latencyMs.p50} ms, p99 ${r.latencyMs.p99} ms${r.sendLateMs ? ` (p99.9 ${r.latencyMs.p999} ms; sent late by the generator p50 ${r.sendLateMs.p50} / p99 ${r.sendLateMs.p99} ms)` : ''}, ${r.failed} failed; cpu % ${cpu}; cpu µs/request ${us}${perCommit}`)
      ;(rate ? openLoop : levels).push({ ...r, ...used, cpuUsPerRequest, auth, commits })
      if (index === params.levels.length - 1) {
        const o = params.openLoopRates
        for (const rate of (typeof o === 'function' ? o(levels) : (o ?? []))) specs.push({ concurrency: 64, rate: Math.max(1, Math.round(rate)) })
      }
    }
    if (specs.length === params.levels.length) await params.between?.(params.levels.length)
    return { levels, openLoop, rssMaxMb, rssIdleMb, stateAtEnd: readState(stack.dataDir), agents, pids }
  } finally {
    await load?.close()
    await stack?.stop()
    if (stack) rmSync(stack.dataDir, { recursive: true, force: true })
  }
}

/** The host's store commits and stored entries so far (its /metrics counters); undefined if it does not serve them. */
async function persistCounts(url: string): Promise<{ commits: number; entries: number } | undefined> {
  try {
    const text = await (await fetch(`${url}/metrics`)).text()
    const value = (name: string) => Number(/^(\S+) (\S+)$/m.exec(text.split('\n').filter((l) => l.startsWith(`${name} `))[0] ?? '')?.[2] ?? Number.NaN)
    const commits = value('bursar_persist_duration_seconds_count'), entries = value('bursar_persist_entries_total')
    return Number.isFinite(commits) && Number.isFinite(entries) ? { commits, entries } : undefined
  } catch {
    return undefined
  }
}

function readState(dataDir: string): BenchEndToEndReturnType['stateAtEnd'] {
  const db = new Database(path.join(dataDir, 'bursar.db'), { readonly: true, fileMustExist: true })
  try {
    const entries = db.prepare('SELECT COUNT(*) FROM audit_entries').pluck().get() as number
    // Issue 15: the sealed state is the newest core blob (wallet '') plus each wallet's newest blob.
    const snap = db.prepare('SELECT SUM(b) FROM (SELECT length(blob) AS b, MAX(version) FROM snapshots GROUP BY wallet)').pluck().get() as number | null
    const versions = db.prepare("SELECT MAX(version) FROM snapshots WHERE wallet = ''").pluck().get() as number | null
    return { auditEntries: entries, snapshotBytes: snap ?? 0, snapshots: versions ?? 0 }
  } finally {
    db.close()
  }
}
