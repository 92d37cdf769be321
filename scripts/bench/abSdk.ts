/**
 * A/B of two copies of the agent SDK in ONE agent process against one stack: A = the SDK under `base` (another
 * checkout, e.g. `git worktree add --detach /tmp/base main`), B = this checkout's. Rounds interleave A and B at 1
 * and at 64 in flight (runSdkPairs' timedRun: this process's CPU per payment, p50, rate) and print B ÷ A per round
 * and their medians. Host and enclave come from `BURSAR_AB_ROOT` (a checkout with dist/) or this one.
 *   npx tsx scripts/bench/abSdk.ts <base checkout> [rounds=5] [window ms=2000]
 */
import { rmSync } from 'node:fs'
import path from 'node:path'
import type { LocalAccount } from 'viem'
import * as sdkB from '../../agent/index.js'
import { startStack } from '../lib/startStack.js'
import { type SdkRun, eip3009, timedRun } from './runSdkPairs.js'
import { benchAccountOptions, oneBenchAgent } from './setupBenchAgents.js'

const base = process.argv[2]
if (!base) throw new Error('usage: abSdk.ts <base checkout> [rounds] [window ms]')
const rounds = Number(process.argv[3] ?? 5)
const windowMs = Number(process.argv[4] ?? 2000)
const sdkA = (await import(path.resolve(base, 'agent/index.ts'))) as typeof sdkB

const stack = await startStack(process.env.BURSAR_AB_ROOT ? { root: process.env.BURSAR_AB_ROOT } : {})
try {
  const a = await oneBenchAgent(stack)
  const mk = (sdk: typeof sdkB) => sdk.bursarAccount(benchAccountOptions(stack, a))
  const pay = (account: LocalAccount) => () => account.signTypedData(eip3009(a.wallet))
  const ops = { A: pay(mk(sdkA)), B: pay(mk(sdkB)) }
  for (const op of [ops.A, ops.B]) {
    await timedRun({ op, concurrency: 64, windowMs: 500 })
    await timedRun({ op, concurrency: 1, windowMs: 300 })
  }
  const ratios: Record<string, number[]> = {}
  const push = (k: string, x: number) => (ratios[k] ??= []).push(x)
  const fmt = (r: SdkRun) => `${r.cpuUsPerOp} µs, p50 ${r.p50Ms} ms, ${r.opsPerSec}/s${r.failed ? `, ${r.failed} failed` : ''}`
  for (let i = 0; i < rounds; i++) {
    // Order alternates per round (A first, then B first) so drift in machine load does not favour one side.
    const order = i % 2 === 0 ? (['A', 'B'] as const) : (['B', 'A'] as const)
    const r: Record<string, SdkRun> = {}
    for (const c of [1, 64]) for (const s of order) r[`${s}${c}`] = await timedRun({ op: ops[s], concurrency: c, windowMs })
    push('cpu c=1', r.B1!.cpuUsPerOp / r.A1!.cpuUsPerOp)
    push('cpu c=64', r.B64!.cpuUsPerOp / r.A64!.cpuUsPerOp)
    push('p50 c=1', r.B1!.p50Ms / r.A1!.p50Ms)
    push('ops/s c=64', r.B64!.opsPerSec / r.A64!.opsPerSec)
    console.log(`round ${i + 1}: c=1 A ${fmt(r.A1!)} | B ${fmt(r.B1!)};  c=64 A ${fmt(r.A64!)} | B ${fmt(r.B64!)}`)
  }
  const med = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!
  for (const [k, xs] of Object.entries(ratios)) console.log(`B ÷ A ${k}: median ${med(xs).toFixed(3)} (${xs.map((x) => x.toFixed(2)).join(' ')})`)
} finally {
  await stack.stop()
  rmSync(stack.dataDir, { recursive: true, force: true })
}
