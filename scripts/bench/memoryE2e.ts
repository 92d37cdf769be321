/**
 * Issue 18's enclave RSS as `make bench` sees it, with the enclave's memory split while it happens: the bench's stack
 * (4 wallets × 16 agents, sessions), a 3 s prewarm, the c = 64 windows (S E S E S), then an open-loop run — the
 * enclave started with --expose-gc and scripts/bench/memorySampler.mjs in monitor mode (one line every 100 ms: RSS
 * anon/file, V8 heap spaces size/used, external, array buffers, malloc'd), and a full GC at the end (live heap).
 *
 *   npx tsx scripts/bench/memoryE2e.ts [windows=5] [openLoopRate=1000] [durationMs=5000]
 *   BENCH_ENCLAVE_FLAGS="--max-semi-space-size=4 ..."  extra enclave node flags
 *   BENCH_HEAPSNAPSHOT=/path/x.heapsnapshot             a heap snapshot of the live heap at the end, and one when idle
 *                                                        after setup (/path/x.heapsnapshot.idle), to diff idle vs load
 *   BENCH_ROOT=/dir                                      run /dir's dist/ bundles (e.g. a copy of main's) instead of this checkout's
 *   BENCH_ENCLAVE_BARE=1                                 the enclave without the launchers' memory settings (scripts/lib/enclaveLaunch.ts)
 */
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { repoRoot, startStack } from '../lib/startStack.js'
import { LoadGenerator } from './LoadGenerator.js'
import { ProcessSampler } from './ProcessSampler.js'
import { setupBenchAgents } from './setupBenchAgents.js'

export type Monitor = {
  at: number
  rss: number
  rssAnon: number
  rssFile: number
  heapTotal: number
  heapUsed: number
  external: number
  arrayBuffers: number
  malloced: number
  spaces: Record<string, { size: number; used: number }>
}
export type MemoryE2ePhase = { name: string; opsPerSec: number; cpuUsPerRequest: number; rssMaxMb: number; loadAvg: number; peak: Monitor | undefined }
export type MemoryE2eResult = { phases: MemoryE2ePhase[]; idle: Monitor | undefined; idleLive: MemoryE2eResult['live']; live: { heapUsed: number; external: number; arrayBuffers: number; rss: number } | undefined; rssMaxMb: number }

const mb = (b: number) => Math.round((b / 1048576) * 10) / 10
export const describeMonitor = (m: Monitor | undefined) => {
  if (!m) return 'n/a'
  const s = (k: string) => mb(m.spaces[k]?.size ?? 0)
  const u = (k: string) => mb(m.spaces[k]?.used ?? 0)
  return `RSS ${mb(m.rss)} (anon ${mb(m.rssAnon)}, file ${mb(m.rssFile)}) | heap committed ${mb(m.heapTotal)} used ${mb(m.heapUsed)}: new ${s('new_space')}/${u('new_space')}, old ${s('old_space')}/${u('old_space')}, code ${s('code_space')}/${u('code_space')}, large ${s('large_object_space')}/${u('large_object_space')}, new-large ${s('new_large_object_space')}/${u('new_large_object_space')} | external ${mb(m.external)} (arrayBuffers ${mb(m.arrayBuffers)}) | malloc ${mb(m.malloced)}`
}

export async function memoryE2e(opts: { windows: number; openLoopRate: number; durationMs: number; enclaveNodeArgs?: string[]; bare?: boolean; heapSnapshot?: string | undefined; root?: string | undefined; log?: (l: string) => void }): Promise<MemoryE2eResult> {
  const log = opts.log ?? ((l: string) => console.log(l))
  const dir = mkdtempSync(path.join(tmpdir(), 'bursar-meme2e-'))
  const sampleFile = path.join(dir, 'mem.jsonl')
  const stack = await startStack({
    ...(opts.bare ? { launchDefaults: false } : {}),
    ...(opts.root ? { root: opts.root } : {}),
    enclaveNodeArgs: [...(opts.enclaveNodeArgs ?? []), '--expose-gc', '--import', path.join(repoRoot, 'scripts/bench/memorySampler.mjs')],
    env: { BURSAR_MEM_SAMPLE_FILE: sampleFile, BURSAR_MEM_MONITOR_MS: '100', ...(opts.heapSnapshot ? { BURSAR_MEM_HEAPSNAPSHOT: opts.heapSnapshot } : {}) },
  })
  let load: LoadGenerator | undefined
  try {
    const enclaveStarted = Date.now()
    const lines = () => (existsSync(sampleFile) ? readFileSync(sampleFile, 'utf8') : '').split('\n').filter((l) => l.endsWith('}')).map((l) => JSON.parse(l))
    const monitorsSince = (t: number) => lines().filter((l) => l.monitor && l.at >= t) as Monitor[]
    // The live heap: a full GC in the enclave (SIGUSR2 → the sampler).
    const fullGc = async () => {
      const before = lines().filter((l) => !l.monitor).length
      process.kill(stack.enclave.pid!, 'SIGUSR2')
      for (let t = Date.now(); Date.now() - t < 60_000; await new Promise((r) => setTimeout(r, 50))) {
        const gcs = lines().filter((l) => !l.monitor)
        if (gcs.length > before) return { ...gcs.at(-1).after } as NonNullable<MemoryE2eResult['live']>
      }
      return undefined
    }
    const peakOf = (ms: Monitor[]) => ms.reduce<Monitor | undefined>((a, b) => (!a || b.rss > a.rss ? b : a), undefined)
    const agents = await setupBenchAgents({ url: stack.url, owner: privateKeyToAccount(generatePrivateKey()), wallets: 4, agentsPerWallet: 16 })
    load = await LoadGenerator.start()
    await new Promise((r) => setTimeout(r, Math.max(0, enclaveStarted + 2_100 - Date.now())))
    await load.run({ url: stack.url, agents, concurrency: 8, requests: 0, auth: 'session' })
    const tIdle = Date.now()
    await new Promise((r) => setTimeout(r, 300))
    const idle = monitorsSince(tIdle).at(-1)
    log(`idle after setup + sessions: ${describeMonitor(idle)}`)
    // The live heap when idle (a full GC; and its heap snapshot moved aside, so the end's does not overwrite it).
    const idleLive = await fullGc()
    if (opts.heapSnapshot && existsSync(opts.heapSnapshot)) renameSync(opts.heapSnapshot, `${opts.heapSnapshot}.idle`)
    if (idleLive) log(`idle, after a full GC: RSS ${mb(idleLive.rss)} MB, heap used ${mb(idleLive.heapUsed)} MB, external ${mb(idleLive.external)} MB (arrayBuffers ${mb(idleLive.arrayBuffers)})`)
    const pids = { enclave: stack.enclave.pid!, host: stack.host.pid! }
    const phases: MemoryE2ePhase[] = []
    let rssMax = 0
    const phase = async (name: string, run: () => ReturnType<LoadGenerator['run']>) => {
      const t = Date.now()
      const sampler = new ProcessSampler(pids)
      sampler.start()
      const r = await run()
      const used = sampler.stop()
      const peak = peakOf(monitorsSince(t))
      const p = { name, opsPerSec: r.opsPerSec, cpuUsPerRequest: Math.round(((used.cpuSeconds.enclave ?? 0) * 1e6) / Math.max(1, r.answeredAll)), rssMaxMb: used.maxRssMb.enclave ?? 0, loadAvg: Math.round(loadavg()[0]! * 100) / 100, peak }
      rssMax = Math.max(rssMax, p.rssMaxMb)
      phases.push(p)
      log(`${name}: ${r.opsPerSec}/s, enclave ${p.cpuUsPerRequest} µs/req, RSS max ${p.rssMaxMb} MB, load ${p.loadAvg}; at the peak: ${describeMonitor(peak)}`)
    }
    await phase('prewarm c=64 session 3 s', () => load!.run({ url: stack.url, agents, concurrency: 64, warmupMs: 0, durationMs: 3000, auth: 'session' }))
    for (let w = 0; w < opts.windows; w++) {
      const auth = w % 2 ? 'ed25519' : 'session'
      await phase(`c=64 ${auth}`, () => load!.run({ url: stack.url, agents, concurrency: 64, warmupMs: 1500, durationMs: opts.durationMs, auth }))
    }
    if (opts.openLoopRate > 0) await phase(`open loop ${opts.openLoopRate}/s`, () => load!.run({ ratePerSec: opts.openLoopRate, url: stack.url, agents, concurrency: 64, warmupMs: 1500, durationMs: opts.durationMs, auth: 'session' }))
    const live = await fullGc()
    if (live) log(`after a full GC: RSS ${mb(live.rss)} MB, heap used ${mb(live.heapUsed)} MB, external ${mb(live.external)} MB (arrayBuffers ${mb(live.arrayBuffers)})${opts.heapSnapshot ? `; heap snapshot ${opts.heapSnapshot}` : ''}`)
    return { phases, idle, idleLive, live, rssMaxMb: rssMax }
  } finally {
    await load?.close()
    await stack.stop()
    rmSync(stack.dataDir, { recursive: true, force: true })
    rmSync(dir, { recursive: true, force: true })
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const [windows = 5, openLoopRate = 1000, durationMs = 5000] = process.argv.slice(2).map(Number)
  const enclaveNodeArgs = (process.env.BENCH_ENCLAVE_FLAGS ?? '').split(' ').filter(Boolean)
  const { ensureBundles } = await import('../buildEnclave.js')
  await ensureBundles()
  console.log(`memory e2e: ${windows} c=64 windows + open loop ${openLoopRate}/s; enclave flags ${process.env.BENCH_ENCLAVE_BARE === '1' ? '(bare: no launch settings) ' : ''}${enclaveNodeArgs.join(' ') || '(none)'}; load ${loadavg().map((x) => x.toFixed(2)).join(' ')}`)
  const r = await memoryE2e({ windows, openLoopRate, durationMs, enclaveNodeArgs, bare: process.env.BENCH_ENCLAVE_BARE === '1', heapSnapshot: process.env.BENCH_HEAPSNAPSHOT, root: process.env.BENCH_ROOT })
  console.log(`enclave RSS max ${r.rssMaxMb} MB`)
}
