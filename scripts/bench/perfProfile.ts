/**
 * Issue 18 (cpu36): CPU per answered request of the enclave and the host at c = 64, split by where it goes, from
 * Linux `perf` (cpu-clock:u: on-CPU user time only) instead of V8's `--cpu-prof`. V8's profiler stamps samples with
 * wall time, so on a shared machine a function that was running when the process lost its CPU (a syscall that woke
 * the other process, a preemption) is charged the wait too: `writev` showed 15 % of the enclave's "busy" time while the
 * enclave made 0.06–0.12 writes per answer. perf samples only while the thread runs, so its shares are CPU shares.
 *
 * One stack (this checkout's dist/), the bench's 4 × 16 session agents, `windows` c = 64 windows; for each process:
 * user and system CPU, reads, writes and context switches per answer (/proc), then the user-time samples attributed
 * to the innermost JavaScript function on the stack (builtins and the runtime it calls count to it; esbuild bundles
 * mapped back to their source modules), the other threads (GC helpers, compiler, the host's SQLite checkpointer)
 * by thread, and the samples with no JavaScript frame (GC on the main thread, libuv) by native symbol.
 *
 *   [PERF_CONCURRENCY=64] [PERF_PREWARM_MS=3000] [PERF_NODE_FLAGS='--max-semi-space-size=32'] npx tsx scripts/bench/perfProfile.ts [ms=8000] [windows=1] [top=30]   (needs `perf`, kernel.perf_event_paranoid ≤ 2)
 */
import { execFileSync, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import path from 'node:path'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { startStack } from '../lib/startStack.js'
import { LoadGenerator } from './LoadGenerator.js'
import { setupBenchAgents } from './setupBenchAgents.js'

const [ms, windows, top] = [Number(process.argv[2] ?? 8000), Number(process.argv[3] ?? 1), Number(process.argv[4] ?? 30)]
const HZ = 1999

type ProcSnap = { syscr: number; syscw: number; vol: number; invol: number; userUs: number; sysUs: number }
function snap(pid: number): ProcSnap {
  const io = Object.fromEntries(readFileSync(`/proc/${pid}/io`, 'utf8').trim().split('\n').map((l) => l.split(': ')).map(([k, v]) => [k, Number(v)]))
  const st = Object.fromEntries(readFileSync(`/proc/${pid}/status`, 'utf8').trim().split('\n').map((l) => l.split(':\t')).map(([k, v]) => [k, Number(v)]))
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
  const tick = 1e6 / 100 // USER_HZ
  return { syscr: io.syscr!, syscw: io.syscw!, vol: st.voluntary_ctxt_switches!, invol: st.nonvoluntary_ctxt_switches!, userUs: Number(f[11]) * tick, sysUs: Number(f[12]) * tick }
}

/** Source module of a bundle line (the `// path` comments esbuild writes before each module). */
const bundles = new Map<string, { lines: number[]; paths: string[] } | null>()
function moduleOf(file: string, line: number): string {
  if (file.startsWith('node:')) return file
  if (!bundles.has(file)) {
    const local = file.replace(/^file:\/\//, '')
    if (!local.endsWith('.mjs') || !existsSync(local)) bundles.set(file, null)
    else {
      const lines: number[] = []
      const paths: string[] = []
      readFileSync(local, 'utf8').split('\n').forEach((l, i) => {
        const m = /^\/\/ ((?:node_modules|core|enclave|host|shared|agent|scripts|cli|sim|governance)\/\S+\.[cm]?[jt]s)$/.exec(l)
        if (m) (lines.push(i + 1), paths.push(m[1]!))
      })
      bundles.set(file, { lines, paths })
    }
  }
  const idx = bundles.get(file)
  if (!idx) return file.replace(/^file:\/\/.*?\/node_modules\//, 'node_modules/')
  let [lo, hi, found] = [0, idx.lines.length - 1, -1]
  while (lo <= hi) {
    const mid = (lo + hi) >> 1
    if (idx.lines[mid]! <= line) (found = mid), (lo = mid + 1)
    else hi = mid - 1
  }
  return found < 0 ? '(bundle prelude)' : idx.paths[found]!.replace(/^node_modules\/(@[^/]+\/[^/]+|[^/]+)\/.*$/, '$1')
}

/** What a non-main thread was doing (V8's platform workers run GC and compiler jobs; libuv's pool the rest). */
function threadKind(frames: string[]): string {
  const has = (re: RegExp) => frames.some((f) => re.test(f))
  if (has(/compiler::|Compile|turboshaft|maglev|Pipeline|Baseline/)) return 'JIT compiler'
  if (has(/Heap|Scaveng|Mark|Sweep|Evacuat|Concurrent|GCTracer|Minor|Worklist|ObjectVisitor/)) return 'GC'
  if (has(/sqlite|better_sqlite/i)) return 'SQLite'
  return (frames[0] ?? '?').replace(/\s+\(.*\)$/, '').slice(0, 50)
}

/** Per process: samples by attribution key (main thread) and by thread kind (others). */
function attribute(script: string, pids: Record<string, number>): Map<number, { main: Map<string, number>; threads: Map<string, number>; total: number }> {
  const out = new Map<number, { main: Map<string, number>; threads: Map<string, number>; total: number }>()
  for (const p of Object.values(pids)) out.set(p, { main: new Map(), threads: new Map(), total: 0 })
  const add = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1)
  for (const block of script.split('\n\n')) {
    const lines = block.split('\n').filter((l) => l.trim())
    const head = /^\s*(\S.*?)\s+(\d+)\/(\d+)/.exec(lines[0] ?? '')
    if (!head) continue
    const [pid, tid] = [Number(head[2]), Number(head[3])]
    const acc = out.get(pid)
    if (!acc) continue
    acc.total++
    const frames = lines.slice(1).map((l) => l.trim().replace(/^[0-9a-f]+\s+/, ''))
    if (tid !== pid) {
      add(acc.threads, threadKind(frames))
      continue
    }
    const js = frames.find((f) => f.startsWith('JS:'))
    if (js) {
      const m = /^JS:[*^~+]?(\S*) (\S+?):(\d+):\d+/.exec(js)
      const name = m ? m[1] || '(anonymous)' : js
      add(acc.main, m ? `${name}  [${moduleOf(m[2]!, Number(m[3]))}]` : name)
      continue
    }
    const leaf = (frames[0] ?? '?').replace(/\s+\(.*\)$/, '')
    const gc = frames.some((f) => /Heap::|Scavenger|MarkCompact|ScavengeJob|MinorMarkSweep|GCTracer/.test(f))
    add(acc.main, gc ? '(garbage collector)' : `${leaf.slice(0, 70)}  [native]`)
  }
  return out
}

// PERF_NODE_FLAGS: extra node flags for both processes (the enclave's own launch flags come after them and win there).
const extra = (process.env.PERF_NODE_FLAGS ?? '').split(' ').filter(Boolean)
// host37: PERF_CONCURRENCY=1 profiles the c = 1 path (default the bench's 64 in flight).
const concurrency = Number(process.env.PERF_CONCURRENCY ?? 64)
const s = await startStack({ nodeArgs: ['--perf-basic-prof-only-functions', '--interpreted-frames-native-stack', ...extra] })
const load = await LoadGenerator.start()
const dir = mkdtempSync(path.join(tmpdir(), 'bursar-perf-'))
try {
  const agents = await setupBenchAgents({ url: s.url, owner: privateKeyToAccount(generatePrivateKey()), wallets: 4, agentsPerWallet: 16 })
  await new Promise((r) => setTimeout(r, 2_200))
  // JIT warm-up: V8 keeps optimizing (background threads) for thousands of requests; PERF_PREWARM_MS to reach steady state.
  await load.run({ url: s.url, agents, concurrency: 64, warmupMs: 0, durationMs: Number(process.env.PERF_PREWARM_MS ?? 3000), auth: 'session' })
  const pids = { enclave: s.enclave.pid!, host: s.host.pid! }
  for (let w = 0; w < windows; w++) {
    const file = path.join(dir, `perf.${w}.data`)
    const before = { enclave: snap(pids.enclave), host: snap(pids.host) }
    const rec = spawn('perf', ['record', '-q', '-e', 'cpu-clock:u', '-F', String(HZ), '-g', '-p', `${pids.enclave},${pids.host}`, '-o', file], { stdio: 'inherit' })
    const r = await load.run({ url: s.url, agents, concurrency, warmupMs: 0, durationMs: ms, auth: 'session' })
    rec.kill('SIGINT')
    await new Promise((res) => rec.once('exit', res))
    const after = { enclave: snap(pids.enclave), host: snap(pids.host) }
    const n = r.ok
    console.log(`window ${w}: c=${concurrency} ${r.opsPerSec} ops/s, ${n} answers, load ${loadavg()[0]!.toFixed(1)}`)
    const script = execFileSync('perf', ['script', '-i', file, '-F', 'comm,pid,tid,ip,sym'], { encoding: 'utf8', maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'ignore'] })
    const by = attribute(script, pids)
    for (const [name, pid] of Object.entries(pids) as Array<[keyof typeof pids, number]>) {
      const [a, b] = [before[name], after[name]]
      const per = (k: keyof ProcSnap) => (b[k] - a[k]) / n
      const acc = by.get(pid)!
      const us = (samples: number) => (samples * 1e6) / HZ / n
      let mainSamples = 0
      for (const v of acc.main.values()) mainSamples += v
      console.log(`  ${name}: /proc per answer: user ${per('userUs').toFixed(0)} µs, sys ${per('sysUs').toFixed(0)} µs, reads ${per('syscr').toFixed(2)}, writes ${per('syscw').toFixed(2)}, context switches ${per('vol').toFixed(2)} + ${per('invol').toFixed(2)} forced`)
      console.log(`    perf user time per answer: ${us(acc.total).toFixed(0)} µs (main thread ${us(mainSamples).toFixed(0)}); other threads: ${[...acc.threads].sort((x, y) => y[1] - x[1]).slice(0, 5).map(([k, v]) => `${k} ${us(v).toFixed(1)}`).join(', ') || 'none'}`)
      const mods = new Map<string, number>()
      for (const [k, v] of acc.main) {
        const mod = /\[(.*)\]$/.exec(k)?.[1] ?? k
        mods.set(mod, (mods.get(mod) ?? 0) + v)
      }
      console.log(`    main thread by module (µs per answer, % of main):`)
      for (const [k, v] of [...mods].sort((x, y) => y[1] - x[1]).slice(0, 16)) console.log(`      ${us(v).toFixed(1).padStart(6)}  ${((100 * v) / mainSamples).toFixed(1).padStart(5)}%  ${k}`)
      console.log(`    main thread by function (innermost JS frame):`)
      for (const [k, v] of [...acc.main].sort((x, y) => y[1] - x[1]).slice(0, top)) console.log(`      ${us(v).toFixed(1).padStart(6)}  ${((100 * v) / mainSamples).toFixed(1).padStart(5)}%  ${k}`)
    }
  }
} finally {
  await load.close()
  await s.stop()
}
