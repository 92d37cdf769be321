import type { AgentSignedResult } from '../../shared/protocol/messages.js'
import { exactCheckpoint } from './exactCheckpoint.js'
import { hasExactKeys, isInt, matches } from './exactShape.js'

const REQUIRED = ['signature', 'signedHash', 'receipt']
const OPTIONAL = ['serializedTransaction']
const RECEIPT_REQUIRED = ['seq', 'entryHash', 'stateVersion', 'checkpoint']
const RECEIPT_OPTIONAL = ['walletSeq']
/** messages.ts's `hex`. */
const HEX = /^0x[0-9a-fA-F]*$/

/**
 * Issue 18 (host34): what `RESULT_SCHEMAS.agentSign` (its first arm, `AgentSignedResultSchema`) returns for `result`,
 * when certain — keys in the schema's order, as zod builds it; null: not sure, run the schema (a dry run, anything
 * else). Differential test: exactAnswerChecks.test.ts.
 */
export function exactAgentSigned(result: unknown): AgentSignedResult | null {
  if (!hasExactKeys(result, REQUIRED, OPTIONAL)) return null
  const { signature, signedHash, serializedTransaction, receipt: r } = result
  if (!matches(signature, HEX) || !matches(signedHash, HEX)) return null
  if (serializedTransaction !== undefined && !matches(serializedTransaction, HEX)) return null
  if (!hasExactKeys(r, RECEIPT_REQUIRED, RECEIPT_OPTIONAL)) return null
  const { seq, walletSeq, entryHash, stateVersion } = r
  if (!isInt(seq) || !isInt(stateVersion) || (walletSeq !== undefined && !isInt(walletSeq)) || !matches(entryHash, HEX)) return null
  const checkpoint = exactCheckpoint(r.checkpoint)
  if (!checkpoint) return null
  const receipt = walletSeq === undefined ? { seq, entryHash, stateVersion, checkpoint } : { seq, walletSeq, entryHash, stateVersion, checkpoint }
  return serializedTransaction === undefined ? { signature, signedHash, receipt } : { signature, signedHash, serializedTransaction, receipt }
}
