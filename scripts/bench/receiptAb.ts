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
import { abRounds, eip3009 } from './runSdkPairs.js'
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
  await abRounds(ops, rounds, windowMs)
} finally {
  await stack.stop()
  rmSync(stack.dataDir, { recursive: true, force: true })
}
