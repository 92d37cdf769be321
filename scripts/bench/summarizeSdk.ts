import type { BenchSdkReturnType } from './benchSdk.js'

export type SdkGoal = { name: string; pass: boolean; actual: string; gap: string }
export type SummarizeSdkReturnType = {
  /** Table rows [measure, value, ratio / note] for the bench table. */
  rows: string[][]
  goals: SdkGoal[]
  notes: string[]
  json: Record<string, unknown>
}

export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}
export const r2 = (x: number) => Math.round(x * 100) / 100
export const spread = (xs: number[], unit = '×') => `min ${r2(Math.min(...xs))}${unit} median ${r2(median(xs))}${unit} max ${r2(Math.max(...xs))}${unit}`

/**
 * The SDK section of `make bench`: per-pair ratios (SDK ÷ the raw viem
 * signature measured just before it in the same process) summarized as
 * min / median / max, the goals judged on the medians.
 */
export function summarizeSdk(r: BenchSdkReturnType): SummarizeSdkReturnType {
  const col = <K extends keyof BenchSdkReturnType['ratios'][number]>(k: K) => r.ratios.map((x) => x[k] as number)
  const per = <T>(f: (p: BenchSdkReturnType['pairs'][number]) => T) => r.pairs.map(f)
  const cpu64 = col('cpuC64')
  const cpu1 = col('cpuC1')
  const tput = col('tputC64')
  const p50 = col('p50C1Ms')
  const paidAdds = col('paidAddsUs')
  const paidRatio = col('paidAddsRatio')
  const floor64 = per((p) => p.floor64.cpuUsPerOp / p.raw.cpuUsPerOp)
  const floor1 = per((p) => p.floor1.cpuUsPerOp / p.raw.cpuUsPerOp)
  const rawUs = per((p) => p.raw.cpuUsPerOp)
  const rawOps = per((p) => p.raw.opsPerSec)
  const failed = per((p) => p.c1.failed + p.c64.failed + p.paidFetch.failed + p.freeFetch.failed + p.paidFetchKa.failed + p.freeFetchKa.failed).reduce((a, b) => a + b, 0)
  const us = (xs: number[]) => `${Math.round(median(xs))} µs`

  const rows = [
    ['agent SDK: raw viem signTypedData in the agent process (A)', `${Math.round(median(rawOps))} ops/s`, `${us(rawUs)} CPU each (median of ${r.pairs.length} pairs); the divisor`],
    ['  SDK signTypedData, CPU per payment at c=64 (B ÷ A)', us(per((p) => p.c64.cpuUsPerOp)), spread(cpu64)],
    ['  SDK signTypedData, CPU per payment at c=1 (B ÷ A)', us(per((p) => p.c1.cpuUsPerOp)), spread(cpu1)],
    ...(r.pairs.every((p) => p.c64Ed25519 && p.c1Ed25519)
      ? [
          [
            '  the same with Ed25519 per request (session: false), CPU at c=64 / c=1',
            `${us(per((p) => p.c64Ed25519!.cpuUsPerOp))} / ${us(per((p) => p.c1Ed25519!.cpuUsPerOp))}`,
            `session ÷ Ed25519 per pair: c=64 ${spread(per((p) => p.c64.cpuUsPerOp / p.c64Ed25519!.cpuUsPerOp))}, c=1 ${spread(per((p) => p.c1.cpuUsPerOp / p.c1Ed25519!.cpuUsPerOp))}`,
          ],
        ]
      : []),
    ['  transport floor: bare keep-alive POST, CPU at c=64 / c=1', `${us(per((p) => p.floor64.cpuUsPerOp))} / ${us(per((p) => p.floor1.cpuUsPerOp))}`, `${r2(median(floor64))}× / ${r2(median(floor1))}× a raw signature (no crypto, no JSON work)`],
    ['  SDK throughput, one agent process at c=64 (B ÷ A)', `${Math.round(median(per((p) => p.c64.opsPerSec)))} ops/s`, spread(tput)],
    ['  SDK latency at c=1', `p50 ${r2(median(p50))} ms`, `${spread(p50, ' ms')}; p99 ${r2(median(per((p) => p.c1.p99Ms)))} ms`],
    ['  createPayingFetch: CPU a paid x402 GET adds over a free GET', us(paidAdds), `${spread(paidRatio)} raw signatures (paid ${us(per((p) => p.paidFetch.cpuUsPerOp))}, free ${us(per((p) => p.freeFetch.cpuUsPerOp))})`],
    [
      '  createPayingFetch({ fetch: node:http keep-alive }): paid GET adds over a free GET',
      us(per((p) => p.paidFetchKa.cpuUsPerOp - p.freeFetchKa.cpuUsPerOp)),
      `${spread(per((p) => (p.paidFetchKa.cpuUsPerOp - p.freeFetchKa.cpuUsPerOp) / p.raw.cpuUsPerOp))} raw signatures (paid ${us(per((p) => p.paidFetchKa.cpuUsPerOp))}, free ${us(per((p) => p.freeFetchKa.cpuUsPerOp))}; paid total ${r2(median(per((p) => p.paidFetchKa.cpuUsPerOp / p.paidFetch.cpuUsPerOp)))}× the global fetch's)`,
    ],
    ['  wallet-key check engine in the agent process', r.engine, failed ? `${failed} failed operations` : 'no failed operations'],
  ]
  const goal = (name: string, value: number, pass: boolean, actual: string, gap: string): SdkGoal => ({
    name,
    pass: Number.isFinite(value) && pass,
    actual,
    gap: pass ? '' : gap,
  })
  const c64 = median(cpu64)
  const c1 = median(cpu1)
  const t = median(tput)
  const l = median(p50)
  const goals = [
    goal('SDK CPU per payment at c=64 ≤ 0.5× raw signature', c64, c64 <= 0.5, `${r2(c64)}×`, `needs ${r2(c64 / 0.5)}× less agent CPU`),
    goal('SDK CPU per payment at c=1 ≤ 0.5× raw signature', c1, c1 <= 0.5, `${r2(c1)}×`, `needs ${r2(c1 / 0.5)}× less; the bare transport alone is ${r2(median(floor1))}×`),
    goal('SDK throughput, one agent process, c=64 ≥ 1.0× raw', t, t >= 1, `${r2(t)}×`, `${r2(1 / t)}× short`),
    goal('SDK p50 at c=1 ≤ 2 ms', l, l <= 2, `${r2(l)} ms`, `${r2(l - 2)} ms over`),
  ]
  const notes = [
    `agent SDK: createPayingFetch adds ${us(paidAdds)} of client CPU per paid x402 request (${r2(median(paidRatio))}× a raw signature; reported, no goal).`,
    'agent SDK ratios compare CPU time in one process a few seconds apart: on a shared machine read the ratios, not the absolute times.',
  ]
  return {
    rows,
    goals,
    notes,
    json: {
      engine: r.engine,
      pairs: r.pairs,
      ratios: r.ratios,
      medians: { cpuC64: r2(c64), cpuC1: r2(c1), tputC64: r2(t), p50C1Ms: r2(l), paidAddsUs: Math.round(median(paidAdds)), paidAddsRatio: r2(median(paidRatio)), floorC64: r2(median(floor64)), floorC1: r2(median(floor1)) },
      paidStatuses: r.paidStatuses,
    },
  }
}
