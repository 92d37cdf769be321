/**
 * `make fuzz`: in-process targets in parallel shards (child processes, one
 * per core) plus a smaller real-process portion (frames into a spawned ready
 * enclave). Deterministic from SEED; a shard silent for longer than the
 * watchdog is a hang (killed, reported with its last position).
 */
import { fork } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { type LiveFigures, fuzzLiveEnclave } from './lib/liveEnclave.js'
import type { Finding, RunTargetsReturnType, TargetFigures } from './lib/runTargets.js'

export type FuzzParameters = {
  seed: number
  /** Total inputs (in-process + live frames). */
  count: number
  /** Live enclave frames out of `count` (default min(2 %, 20,000)). */
  live?: number
  workers?: number
  hangMs?: number
  onProgress?: (line: string) => void
}

export type FuzzFigures = {
  seed: number
  inputs: number
  inProcess: number
  crashes: number
  hangs: number
  peakRssMb: number
  findings: Finding[]
  targets: TargetFigures[]
  live: LiveFigures | null
  seconds: number
}

const here = path.dirname(fileURLToPath(import.meta.url))

function runShard(params: { seed: number; count: number; index: number; of: number; hangMs: number; onProgress: (done: number, rss: number) => void }) {
  return new Promise<RunTargetsReturnType>((resolve) => {
    const child = fork(path.join(here, 'lib/fuzzWorker.ts'), [params.seed, params.count, params.index, params.of, params.hangMs].map(String), {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    })
    let last = { target: '', index: -1 }
    let done = false
    let timer: NodeJS.Timeout
    const watchdog = () => {
      clearTimeout(timer)
      timer = setTimeout(() => {
        child.kill('SIGKILL')
        resolve({
          inputs: 0,
          crashes: [],
          crashCount: 0,
          hangs: [{ target: last.target, index: last.index, seed: params.seed, message: `shard ${params.index} silent for 120 s after this position` }],
          hangCount: 1,
          peakRssMb: 0,
          targets: [],
        })
      }, 120_000)
    }
    watchdog()
    child.on('message', (m: { type: string; done?: number; rssMb?: number; target?: string; index?: number; result?: RunTargetsReturnType }) => {
      watchdog()
      if (m.type === 'progress') {
        last = { target: m.target!, index: m.index! }
        params.onProgress(m.done!, m.rssMb!)
      } else if (m.type === 'done') {
        done = true
        clearTimeout(timer)
        resolve(m.result!)
      }
    })
    child.on('exit', (code, signal) => {
      clearTimeout(timer)
      if (!done)
        resolve({
          inputs: 0,
          crashes: [{ target: last.target, index: last.index, seed: params.seed, message: `shard ${params.index} died (code ${code}, signal ${signal}) after this position` }],
          crashCount: 1,
          hangs: [],
          hangCount: 0,
          peakRssMb: 0,
          targets: [],
        })
    })
  })
}

/** Runs the whole fuzz campaign and returns its figures (findings are values, never thrown). */
export async function runFuzz(params: FuzzParameters): Promise<FuzzFigures> {
  const t0 = Date.now()
  const log = params.onProgress ?? (() => {})
  const live = Math.min(params.live ?? Math.min(Math.round(params.count * 0.02), 20_000), params.count)
  const inProcess = params.count - live
  const workers = params.workers ?? 2
  const hangMs = params.hangMs ?? 1_000
  const progress = new Array<number>(workers).fill(0)
  const rss = new Array<number>(workers).fill(0)
  let lastLog = 0
  const shards = await Promise.all(
    Array.from({ length: workers }, (_, index) =>
      runShard({
        seed: params.seed,
        count: inProcess,
        index,
        of: workers,
        hangMs,
        onProgress: (done, r) => {
          progress[index] = done
          rss[index] = r
          if (Date.now() - lastLog > 5_000) {
            lastLog = Date.now()
            const n = progress.reduce((a, b) => a + b, 0)
            log(`in-process: ${n.toLocaleString('en')}/${inProcess.toLocaleString('en')} inputs, ${Math.round(n / ((Date.now() - t0) / 1000))}/s, RSS ${rss.join('/')} MB`)
          }
        },
      }),
    ),
  )
  const liveFigures = live > 0 ? await fuzzLiveEnclave({ seed: params.seed, count: live, onProgress: log }) : null
  const byName = new Map<string, TargetFigures>()
  for (const s of shards)
    for (const t of s.targets) {
      const a = byName.get(t.name) ?? { name: t.name, inputs: 0, crashes: 0, hangs: 0, slowestMs: 0, totalMs: 0 }
      byName.set(t.name, {
        name: t.name,
        inputs: a.inputs + t.inputs,
        crashes: a.crashes + t.crashes,
        hangs: a.hangs + t.hangs,
        slowestMs: Math.max(a.slowestMs, t.slowestMs),
        totalMs: a.totalMs + t.totalMs,
      })
    }
  const inProcessDone = shards.reduce((n, s) => n + s.inputs, 0)
  return {
    seed: params.seed,
    inputs: inProcessDone + (liveFigures?.frames ?? 0),
    inProcess: inProcessDone,
    crashes: shards.reduce((n, s) => n + s.crashCount, 0) + (liveFigures?.crashCount ?? 0) + (liveFigures && !liveFigures.enclaveAlive ? 1 : 0),
    hangs: shards.reduce((n, s) => n + s.hangCount, 0) + (liveFigures?.hangs ?? 0),
    peakRssMb: Math.max(...shards.map((s) => s.peakRssMb), liveFigures?.peakRssMb ?? 0),
    findings: [...shards.flatMap((s) => [...s.crashes, ...s.hangs])],
    targets: [...byName.values()],
    live: liveFigures,
    seconds: Math.round((Date.now() - t0) / 100) / 10,
  }
}
