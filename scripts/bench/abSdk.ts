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
import { abRounds, eip3009 } from './runSdkPairs.js'
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
  await abRounds(ops, rounds, windowMs)
} finally {
  await stack.stop()
  rmSync(stack.dataDir, { recursive: true, force: true })
}
