import type { AuditCheckpoint } from '../../shared/audit/auditCheckpoint.js'
import { CHAIN_ID_REGEX, HASH_HEX_REGEX } from '../../shared/audit/auditEntry.js'
import { CHECKPOINT_SIGNATURE_REGEX } from '../../shared/audit/checkpointSignatureRegex.js'
import { hasExactKeys, isCount, matches } from './exactShape.js'

const REQUIRED = ['seq', 'head', 'time', 'signature']
const OPTIONAL = ['chain']

/**
 * The last signature text the regex took: a receipt repeats its persist block's checkpoint (same text, one test).
 * null until one is taken (rt34b: it started as '', so a fresh host took an empty signature unchecked).
 */
let lastSignature: string | null = null

/** Issue 18 (host34): `AuditCheckpointSchema`'s output for `c` when certain (see exactShape.ts); null: not sure. */
export function exactCheckpoint(c: unknown): AuditCheckpoint | null {
  if (!hasExactKeys(c, REQUIRED, OPTIONAL)) return null
  const { seq, head, time, chain, signature } = c
  if (!isCount(seq) || !isCount(time) || !matches(head, HASH_HEX_REGEX) || typeof signature !== 'string') return null
  if (signature !== lastSignature) {
    if (!CHECKPOINT_SIGNATURE_REGEX.test(signature)) return null
    lastSignature = signature
  }
  if (chain === undefined) return { seq, head, time, signature }
  return matches(chain, CHAIN_ID_REGEX) ? { seq, head, time, chain, signature } : null
}
