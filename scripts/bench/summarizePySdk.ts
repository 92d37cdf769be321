import type { BenchPySdkReturnType } from './benchPySdk.js'
import { type SdkGoal, type SummarizeSdkReturnType, median, r2, spread } from './summarizeSdk.js'

/**
 * The Python SDK part of `make bench`'s SDK section: per-pair ratios (BursarSigner.sign_typed_data ÷ eth_account's
 * local sign_typed_data measured just before it in the same Python process) as min / median / max, the TS SDK's
 * goals judged on the medians (reported beside them, same thresholds).
 */
export function summarizePySdk(r: BenchPySdkReturnType): SummarizeSdkReturnType {
  const col = <K extends keyof BenchPySdkReturnType['ratios'][number]>(k: K) => r.ratios.map((x) => x[k] as number)
  const per = <T>(f: (p: BenchPySdkReturnType['pairs'][number]) => T) => r.pairs.map(f)
  const cpuN = col('cpuCN')
  const cpu1 = col('cpuC1')
  const tputN = col('tputCN')
  const p50 = col('p50C1Ms')
  const failed = per((p) => p.c1.failed + p.cN.failed).reduce((a, b) => a + b, 0)
  const us = (xs: number[]) => `${Math.round(median(xs))} µs`
  const n = r.concurrency

  const rows = [
    [`Python SDK: raw eth_account sign_typed_data in the agent process (A, Python ${r.python})`, `${Math.round(median(per((p) => p.raw.opsPerSec)))} ops/s`, `${us(per((p) => p.raw.cpuUsPerOp))} CPU each (median of ${r.pairs.length} pairs); the divisor`],
    ['  BursarSigner.sign_typed_data, CPU per payment at c=1 (B ÷ A)', us(per((p) => p.c1.cpuUsPerOp)), spread(cpu1)],
    [`  BursarSigner.sign_typed_data, CPU per payment at c=${n} ${r.mode} (B ÷ A)`, us(per((p) => p.cN.cpuUsPerOp)), spread(cpuN)],
    [`  Python SDK throughput, one agent process at c=${n} ${r.mode} (B ÷ A)`, `${Math.round(median(per((p) => p.cN.opsPerSec)))} ops/s`, `${spread(tputN)}; c=1 ${Math.round(median(per((p) => p.c1.opsPerSec)))} ops/s`],
    ['  Python SDK latency at c=1', `p50 ${r2(median(p50))} ms`, `${spread(p50, ' ms')}; p99 ${r2(median(per((p) => p.c1.p99Ms)))} ms`],
    ['  Python SDK answer check', 'coincurve (libsecp256k1)', failed ? `${failed} failed operations` : 'no failed operations'],
  ]
  const goal = (name: string, value: number, pass: boolean, actual: string, gap: string): SdkGoal => ({ name, pass: Number.isFinite(value) && pass, actual, gap: pass ? '' : gap })
  const cN = median(cpuN)
  const c1 = median(cpu1)
  const t = median(tputN)
  const l = median(p50)
  const goals = [
    goal(`Python SDK CPU per payment at c=${n} ≤ 0.5× raw eth_account signature (reported)`, cN, cN <= 0.5, `${r2(cN)}×`, `needs ${r2(cN / 0.5)}× less agent CPU`),
    goal('Python SDK CPU per payment at c=1 ≤ 0.5× raw eth_account signature (reported)', c1, c1 <= 0.5, `${r2(c1)}×`, `needs ${r2(c1 / 0.5)}× less agent CPU`),
    goal(`Python SDK throughput, one agent process, c=${n} ${r.mode} ≥ 1.0× raw (reported)`, t, t >= 1, `${r2(t)}×`, `${r2(1 / t)}× short`),
    goal('Python SDK p50 at c=1 ≤ 2 ms (reported)', l, l <= 2, `${r2(l)} ms`, `${r2(l - 2)} ms over`),
  ]
  const notes = [
    `Python SDK: the raw baseline is eth_account's sign_typed_data (what the official x402 Python client's EthAccountSigner calls) with a hardcoded key; concurrency is ${n} ${r.mode} (the SDK is synchronous and thread-safe), under the GIL.`,
  ]
  return {
    rows,
    goals,
    notes,
    json: {
      python: r.python,
      mode: r.mode,
      concurrency: n,
      pairs: r.pairs,
      ratios: r.ratios,
      medians: { cpuCN: r2(cN), cpuC1: r2(c1), tputCN: r2(t), p50C1Ms: r2(l), rawCpuUs: Math.round(median(per((p) => p.raw.cpuUsPerOp))) },
      profile: r.profile,
    },
  }
}

/** The cProfile of the Python SDK at c=1 (CPU time), top functions by own time in µs per payment, and the raw baseline's. */
export function formatPyProfile(r: BenchPySdkReturnType, top = 12): string {
  if (!r.profile) return ''
  const lines: string[] = []
  for (const [label, p] of [
    ['Python SDK (BursarSigner.sign_typed_data, c=1)', r.profile.sdkC1],
    ['raw eth_account sign_typed_data', r.profile.raw],
  ] as const) {
    lines.push(`cProfile (CPU time, profiler overhead included) of ${label}, ${p.n} payments, own µs per payment:`)
    for (const row of p.top.slice(0, top)) lines.push(`  ${String(row.ownUs).padStart(7)} µs own  ${String(row.cumUs).padStart(7)} µs cum  ${String(row.calls).padStart(5)}×  ${row.fn}`)
  }
  return lines.join('\n')
}
