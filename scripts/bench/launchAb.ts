/**
 * Interleaved A/B of the enclave's launch settings through `make bench`'s own path (issue 18, enclave RSS vs CPU):
 * startStack (the launchers' settings, scripts/lib/enclaveLaunch.ts, then the configuration's extra node flags: the last
 * V8 flag wins), the bench's 4 wallets x 16 agents with sessions, a 3 s prewarm at c = 64, then W c = 64 windows
 * (1.5 s warm-up + D ms each, session auth) and one open-loop window at R/s. The enclave's VmRSS is read as the bench
 * reads it (ProcessSampler, every 50 ms: max over the windows; once idle after the prewarm), its CPU per answered
 * request over the c = 64 windows. No sampler is preloaded into the enclave (unlike memoryE2e.ts).
 * Each round runs every configuration once, in rotating order; CPU ratios are taken against the first configuration
 * in the same round (pairs), then min / median / max.
 *
 *   npx tsx scripts/bench/launchAb.ts [rounds=3] [windows=3] [durationMs=4000] [openLoopRate=1000] NAME=FLAGS...
 *   e.g.  base=  semi4=--max-semi-space-size=4  grow50=--heap-growing-percent=50   (FLAGS comma-separated, may be empty;
 *   a part ENV_NAME=value goes to the enclave's environment; a part root:DIR runs DIR's dist/ bundles instead of this
 *   checkout's, e.g. a copy of main's dist/ with a node_modules link beside it, to compare bundles: base=root:/tmp/main branch=)
 */
import { loadavg } from 'node:os'
import { rmSync } from 'node:fs'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { startStack } from '../lib/startStack.js'
import { LoadGenerator } from './LoadGenerator.js'
import { ProcessSampler } from './ProcessSampler.js'
import { setupBenchAgents } from './setupBenchAgents.js'

type Row = { idle: number; max: number; cpu: number; ops: number; load: number; open?: { p50: number; p99: number; p999: number } }

export async function launchRun(opts: { flags: string[]; env: Record<string, string>; root?: string | undefined; windows: number; durationMs: number; openLoopRate: number }): Promise<Row> {
  const stack = await startStack({ enclaveNodeArgs: opts.flags, env: opts.env, ...(opts.root ? { root: opts.root } : {}) })
  let load: LoadGenerator | undefined
  try {
    const started = Date.now()
    const agents = await setupBenchAgents({ url: stack.url, owner: privateKeyToAccount(generatePrivateKey()), wallets: 4, agentsPerWallet: 16 })
    load = await LoadGenerator.start()
    await new Promise((r) => setTimeout(r, Math.max(0, started + 2_100 - Date.now())))
    await load.run({ url: stack.url, agents, concurrency: 8, requests: 0, auth: 'session' })
    await load.run({ url: stack.url, agents, concurrency: 64, warmupMs: 0, durationMs: 3000, auth: 'session' })
    const pids = { enclave: stack.enclave.pid! }
    const idleSampler = new ProcessSampler(pids)
    idleSampler.start()
    const idle = idleSampler.stop().maxRssMb.enclave ?? Number.NaN
    let max = 0
    let cpu = 0
    let openMs: Row['open'] // tail42: the open-loop window's latencies
    let answered = 0
    let ops = 0
    for (let w = 0; w < opts.windows + (opts.openLoopRate > 0 ? 1 : 0); w++) {
      const open = w === opts.windows
      const s = new ProcessSampler(pids)
      s.start()
      const r = await load.run({ url: stack.url, agents, concurrency: 64, warmupMs: 1500, durationMs: opts.durationMs, auth: 'session', ...(open ? { ratePerSec: opts.openLoopRate } : {}) })
      const used = s.stop()
      max = Math.max(max, used.maxRssMb.enclave ?? 0)
      if (open) openMs = { p50: r.latencyMs.p50, p99: r.latencyMs.p99, p999: r.latencyMs.p999 } // tail42
      else {
        cpu += used.cpuSeconds.enclave ?? 0
        answered += r.answeredAll
        ops += r.opsPerSec / opts.windows
      }
    }
    return { idle, max, cpu: Math.round((cpu * 1e6) / Math.max(1, answered)), ops: Math.round(ops), load: Math.round(loadavg()[0]! * 10) / 10, ...(openMs ? { open: openMs } : {}) }
  } finally {
    await load?.close()
    await stack.stop()
    rmSync(stack.dataDir, { recursive: true, force: true })
  }
}

const [roundsArg, windowsArg, durationArg, rateArg, ...specs] = process.argv.slice(2)
const configs = specs.map((s) => {
  const name = s.slice(0, s.indexOf('='))
  const parts = s.slice(s.indexOf('=') + 1).split(',').filter(Boolean)
  const isEnv = (p: string) => /^[A-Z_][A-Z0-9_]*=/.test(p)
  const isRoot = (p: string) => p.startsWith('root:')
  return { name, root: parts.find(isRoot)?.slice('root:'.length), flags: parts.filter((p) => !isEnv(p) && !isRoot(p)), env: Object.fromEntries(parts.filter(isEnv).map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)])) }
})
const rounds = Number(roundsArg ?? 3)
const opts = { windows: Number(windowsArg ?? 3), durationMs: Number(durationArg ?? 4000), openLoopRate: Number(rateArg ?? 1000) }
const { ensureBundles } = await import('../buildEnclave.js')
await ensureBundles()
console.log(`launch A/B: ${rounds} rounds x ${configs.map((c) => c.name).join(', ')}; ${opts.windows} c=64 windows of ${opts.durationMs} ms + open loop ${opts.openLoopRate}/s; load ${loadavg()[0]!.toFixed(1)}`)
const rows = new Map<string, Row[]>(configs.map((c) => [c.name, []]))
const ratios = new Map<string, number[]>(configs.map((c) => [c.name, []]))
const p99Ratios = new Map<string, number[]>(configs.map((c) => [c.name, []]))
for (let r = 0; r < rounds; r++) {
  const got = new Map<string, Row>()
  for (let i = 0; i < configs.length; i++) {
    const c = configs[(i + r) % configs.length]!
    const row = await launchRun({ flags: c.flags, env: c.env, root: c.root, ...opts })
    got.set(c.name, row)
    rows.get(c.name)!.push(row)
    console.log(`round ${r + 1} ${c.name.padEnd(12)} RSS idle ${row.idle} max ${row.max} MB; enclave ${row.cpu} µs/req at c=64 (${row.ops}/s)${row.open ? `; open loop p50 ${row.open.p50} p99 ${row.open.p99} p99.9 ${row.open.p999} ms` : ''}; load ${row.load}`)
  }
  const base = got.get(configs[0]!.name)!
  for (const c of configs) ratios.get(c.name)!.push(Math.round((got.get(c.name)!.cpu / base.cpu) * 100) / 100)
  // tail42: the open-loop p99 against the first configuration in the same round (pairs).
  for (const c of configs) if (base.open && got.get(c.name)!.open) p99Ratios.get(c.name)!.push(Math.round((got.get(c.name)!.open!.p99 / base.open.p99) * 100) / 100)
}
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const f = (xs: number[]) => `${med(xs)} [${Math.min(...xs)}–${Math.max(...xs)}]`
for (const c of configs) {
  const rs = rows.get(c.name)!
  console.log(`${c.name.padEnd(12)} median [min–max]: RSS max ${f(rs.map((x) => x.max))} MB, idle ${f(rs.map((x) => x.idle))} MB, enclave µs/req ${f(rs.map((x) => x.cpu))}, CPU ÷ ${configs[0]!.name} (pairs) ${f(ratios.get(c.name)!)}${p99Ratios.get(c.name)!.length ? `, open-loop p99 ${f(rs.map((x) => x.open!.p99))} ms, ÷ ${configs[0]!.name} (pairs) ${f(p99Ratios.get(c.name)!)}` : ''}`)
}
