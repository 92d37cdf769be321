/**
 * Where one SDK payment's wall time goes at 1 in flight: a real host + simulated enclave (separate processes), one
 * wallet and agent, and `bursarAccount(...).signTypedData` run sequentially in THIS process. For each window it
 * reports the agent's p50, the host's own view of the request (its `bursar_http_request_duration_seconds` for
 * /v1/agent/sign: fastify's onRequest → response written), the enclave round trip as the host sees it
 * (`bursar_enclave_request_duration_seconds{type="agentSign"}`: frame out → frame in) and the SQLite commit
 * (`bursar_persist_duration_seconds`), as means from /metrics, plus each process's CPU per payment (/proc).
 *   npx tsx scripts/bench/sdkRoundTrip.ts [windows=3] [window ms=3000] [in flight, or a list cycled per window: 1,64]
 * SDK_RT_PROF=<dir>: host and enclave run with --cpu-prof into <dir> (summarize with summarizeCpuProfile.ts).
 * agent-side = p50 − host mean (not quite: a mean against a median; read the rows side by side).
 */
import { rmSync } from 'node:fs'
import { bursarAccount } from '../../agent/index.js'
import { startStack } from '../lib/startStack.js'
import { ProcessSampler } from './ProcessSampler.js'
import { eip3009 } from './runSdkPairs.js'
import { benchAccountOptions, oneBenchAgent } from './setupBenchAgents.js'

const windows = Number(process.argv[2] ?? 3)
const windowMs = Number(process.argv[3] ?? 3000)
const inFlights = (process.argv[4] ?? '1').split(',').map(Number)
const profDir = process.env.SDK_RT_PROF

const stack = await startStack(profDir ? { nodeArgs: ['--cpu-prof', '--cpu-prof-dir', profDir] } : {})
try {
  const a = await oneBenchAgent(stack)
  const account = bursarAccount(benchAccountOptions(stack, a))
  const pay = () => account.signTypedData(eip3009(a.wallet))
  for (const until = performance.now() + 1500; performance.now() < until; ) await pay()
  const metric = async () => {
    const text = await (await fetch(`${stack.url}/metrics`)).text()
    const pick = (re: RegExp) => Number(re.exec(text)?.[1] ?? Number.NaN)
    return {
      httpSum: pick(/bursar_http_request_duration_seconds_sum\{[^}]*route="\/v1\/agent\/sign"[^}]*\} ([0-9.e-]+)/),
      httpN: pick(/bursar_http_request_duration_seconds_count\{[^}]*route="\/v1\/agent\/sign"[^}]*\} ([0-9.e-]+)/),
      encSum: pick(/bursar_enclave_request_duration_seconds_sum\{[^}]*type="agentSign"[^}]*\} ([0-9.e-]+)/),
      encN: pick(/bursar_enclave_request_duration_seconds_count\{[^}]*type="agentSign"[^}]*\} ([0-9.e-]+)/),
      perSum: pick(/bursar_persist_duration_seconds_sum(?:\{[^}]*\})? ([0-9.e-]+)/),
      perN: pick(/bursar_persist_duration_seconds_count(?:\{[^}]*\})? ([0-9.e-]+)/),
    }
  }
  for (let w = 0; w < windows; w++) {
    const inFlight = inFlights[w % inFlights.length]!
    const m0 = await metric()
    const sampler = new ProcessSampler({ host: stack.host.pid!, enclave: stack.enclave.pid!, agent: process.pid })
    sampler.start()
    const lat: number[] = []
    const until = performance.now() + windowMs
    const loop = async () => {
      while (performance.now() < until) {
        const s = performance.now()
        await pay()
        lat.push(performance.now() - s)
      }
    }
    await Promise.all(Array.from({ length: inFlight }, loop))
    const cpu = sampler.stop()
    const m1 = await metric()
    lat.sort((x, y) => x - y)
    const n = lat.length
    const us = (sum: number, k: number) => Math.round(((sum * 1e6) / Math.max(1, k)))
    const cpuUs = (name: string) => Math.round(((cpu.cpuSeconds[name] ?? 0) * 1e6) / n)
    console.log(
      `window ${w + 1} (c=${inFlight}): n ${n}, ${Math.round(n / (windowMs / 1000))}/s, p50 ${lat[Math.floor(n / 2)]!.toFixed(3)} ms (mean ${(lat.reduce((s, x) => s + x, 0) / n).toFixed(3)}); host route ${us(m1.httpSum - m0.httpSum, m1.httpN - m0.httpN)} µs, enclave round trip ${us(m1.encSum - m0.encSum, m1.encN - m0.encN)} µs, persist ${us(m1.perSum - m0.perSum, m1.perN - m0.perN)} µs (${m1.perN - m0.perN} commits); CPU µs/payment agent ${cpuUs('agent')} host ${cpuUs('host')} enclave ${cpuUs('enclave')}; others ${cpu.cpuPct.others} %`,
    )
  }
} finally {
  await stack.stop()
  rmSync(stack.dataDir, { recursive: true, force: true })
}
