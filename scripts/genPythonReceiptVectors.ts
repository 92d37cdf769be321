// Writes the issue 15 step 4 receipt scenarios (answers from two chains, a fork across chains, a chain restored to an
// older state; test/helpers/chainReceipts.ts) to clients/python/tests/vectors/ts_receipts_chains.json, which the
// Python SDK's receipt checks must decide as the TypeScript SDK does (agent/receiptMarksChains.test.ts keeps it current).
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { chainReceiptScenarios } from '../test/helpers/chainReceipts.js'
import { repoRoot } from './lib/startStack.js'
import { turnCheckpointVectors } from '../test/helpers/turnCheckpointVectors.js'

export const RECEIPT_VECTORS_FILE = path.join(repoRoot, 'clients/python/tests/vectors/ts_receipts_chains.json')
/** turn18: turn checkpoints and tampered copies (test/helpers/turnCheckpointVectors.ts). */
export const TURN_VECTORS_FILE = path.join(repoRoot, 'clients/python/tests/vectors/ts_turn_checkpoints.json')
export const receiptVectorsText = (): string => `${JSON.stringify(chainReceiptScenarios(), null, 1)}\n`

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  writeFileSync(RECEIPT_VECTORS_FILE, receiptVectorsText())
  console.log(`wrote ${path.relative(repoRoot, RECEIPT_VECTORS_FILE)}`)
  writeFileSync(TURN_VECTORS_FILE, `${JSON.stringify(turnCheckpointVectors(), null, 1)}\n`)
  console.log(`wrote ${path.relative(repoRoot, TURN_VECTORS_FILE)}`)
}
