/**
 * c = 1: where a payment's wall time goes, from the host's own histograms (sum / count) over a 5 s c = 1 window on a
 * fresh stack: the whole HTTP request in the host (fastify's elapsed time), the enclave round trip (frame written to
 * answer received) and the commit. `root`: a directory holding a built dist/ (default this checkout), as in hostAb.ts.
 *
 * lat35: and each main thread's time on a CPU and waiting for one (runnable, not running: /proc schedstat) per
 * request, the load generator's included: how much of the c = 1 wall time is CPU on the path, how much the machine's
 * other work, and the rest (wake-ups, idle waits).
 *
 *   npx tsx scripts/bench/c1Breakdown.ts [root]
 */
import { readFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import path from 'node:path'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { startStack } from '../lib/startStack.js'
import { setupBenchAgents } from './setupBenchAgents.js'
import { LoadGenerator } from './LoadGenerator.js'
const root = path.resolve(process.argv[2] ?? '.')
const s = await startStack({ root })
const load = await LoadGenerator.start()
try {
  const agents = await setupBenchAgents({ url: s.url, owner: privateKeyToAccount(generatePrivateKey()), wallets: 4, agentsPerWallet: 4 })
  await new Promise((r) => setTimeout(r, 2200))
  await load.run({ url: s.url, agents, concurrency: 8, requests: 0, auth: 'session' })
  await load.run({ url: s.url, agents, concurrency: 1, warmupMs: 0, durationMs: 1500, auth: 'session' })
  const metrics = async () => {
    const t = await (await fetch(`${s.url}/metrics`)).text()
    const get = (re: RegExp) => t.split('\n').filter((l) => re.test(l)).reduce((n, l) => n + Number(l.split(' ').pop()), 0)
    return {
      http: [get(/^bursar_http_request_duration_seconds_sum\{.*agent\/sign/), get(/^bursar_http_request_duration_seconds_count\{.*agent\/sign/)],
      enclave: [get(/^bursar_enclave_request_duration_seconds_sum\{.*agentSign/), get(/^bursar_enclave_request_duration_seconds_count\{.*agentSign/)],
      persist: [get(/^bursar_persist_duration_seconds_sum/), get(/^bursar_persist_duration_seconds_count/)],
    }
  }
  const pids = { enclave: s.enclave.pid!, host: s.host.pid!, agent: load.pid }
  const sched = () => Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').split(' ').map(Number)]))
  const a = await metrics()
  const s0 = sched()
  const r = await load.run({ url: s.url, agents, concurrency: 1, warmupMs: 0, durationMs: 5000, auth: 'session' })
  const s1 = sched()
  const b = await metrics()
  const per = (k: string, i: number) => ((s1[k]![i]! - s0[k]![i]!) / 1e3 / r.answeredAll).toFixed(0)
  console.log(`main threads per request (µs on a CPU / waiting for one): ${Object.keys(pids).map((k) => `${k} ${per(k, 0)} / ${per(k, 1)}`).join(', ')}; wall per request ${((5000 * 1000) / r.answeredAll).toFixed(0)} µs (load ${loadavg()[0]!.toFixed(2)})`)
  const mean = (k: keyof typeof a) => (((b[k][0]! - a[k][0]!) / (b[k][1]! - a[k][1]!)) * 1e6).toFixed(0)
  console.log(`${path.basename(root)}: c=1 ${r.opsPerSec} ops/s, client p50 ${r.latencyMs.p50} ms mean ${r.latencyMs.mean} ms | host HTTP (fastify elapsed) mean ${mean('http')} µs, enclave round trip mean ${mean('enclave')} µs, commit mean ${mean('persist')} µs`)
} finally {
  await load.close()
  await s.stop()
}
