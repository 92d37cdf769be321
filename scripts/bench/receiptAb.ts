/**
 * Issue 15 (sdk15): the cost of the agent SDK's receipt checks. One agent process, one stack, the same SDK twice:
 * A = `receipts: 'off'`, B = the default (`'verify'`: entry hash, binding, checkpoint Ed25519 verify, marks). Rounds
 * interleave A and B at 1 and at 64 in flight (runSdkPairs' timedRun, the SDK bench's measurement: this process's
 * CPU per payment, p50, rate), order alternating per round, and print B ÷ A per round and their medians. With
 * `--marks-file`, B also persists its marks to a file (one atomic rewrite per receipt).
 *   npx tsx scripts/bench/receiptAb.ts [rounds=5] [window ms=2000] [--marks-file]
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { LocalAccount } from 'viem'
import * as sdk from '../../agent/index.js'
import { startStack } from '../lib/startStack.js'
import { type SdkRun, eip3009, timedRun } from './runSdkPairs.js'
import { benchAccountOptions, oneBenchAgent } from './setupBenchAgents.js'

const args = process.argv.slice(2).filter((a) => !a.startsWith('--'))
const rounds = Number(args[0] ?? 5)
const windowMs = Number(args[1] ?? 2000)
const marksFile = process.argv.includes('--marks-file') ? path.join(mkdtempSync(path.join(tmpdir(), 'bursar-marks-')), 'marks.json') : undefined

const stack = await startStack()
try {
  const a = await oneBenchAgent(stack)
  const mk = (receipts: 'off' | 'verify') =>
    sdk.bursarAccount({ ...benchAccountOptions(stack, a), receipts, ...(receipts === 'verify' && marksFile ? { receiptMarksFile: marksFile } : {}) })
  const pay = (account: LocalAccount) => () => account.signTypedData(eip3009(a.wallet))
  const ops = { A: pay(mk('off')), B: pay(mk('verify')) }
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
