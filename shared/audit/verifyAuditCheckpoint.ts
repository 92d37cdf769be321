import { type KeyObject, verify } from 'node:crypto'
import type { AuditCheckpoint } from './auditEntry.js'
import { auditCheckpointMessage, auditTurnMessage } from './auditCheckpointMessage.js'
import { auditTurnRoot } from './auditTurnRoot.js'
import { CHECKPOINT_SIGNATURE_REGEX } from './checkpointSignatureRegex.js'

/**
 * True when the checkpoint's Ed25519 signature verifies under the enclave's receipt key. Two forms (docs/audit.md
 * "Checkpoint"): `0x` + 128 hex signs `{seq, head, time}` itself; a turn checkpoint (turn18) `0x` + 128 hex + `.` +
 * index + (`.` + 64 hex) per level signs the Merkle root its head's path leads to (auditTurnRoot, auditTurnMessage).
 * A turn's blocks share one signature: a verified (key, message, signature) is remembered (bounded), so the answers
 * of one turn cost one Ed25519 verify. rt33a: the field must be spelled exactly as the enclave writes it
 * (CHECKPOINT_SIGNATURE_REGEX): `Number` and `Buffer.from(…, 'hex')` alone read `01`, `0x1`, ` 1`, upper case and
 * trailing junk, so a caller that skipped the schema (the console's head) accepted what the auditor calls malformed.
 */
export function verifyAuditCheckpoint(checkpoint: AuditCheckpoint, publicKey: KeyObject): boolean {
  if (typeof checkpoint.signature !== 'string' || !CHECKPOINT_SIGNATURE_REGEX.test(checkpoint.signature)) return false
  const parts = checkpoint.signature.split('.')
  const signature = Buffer.from(parts[0]!.slice(2), 'hex')
  if (signature.length !== 64) return false
  try {
    if (parts.length === 1) return verify(null, auditCheckpointMessage(checkpoint), publicKey, signature)
    const index = Number(parts[1]), path = parts.slice(2).map((h) => Buffer.from(h, 'hex'))
    if (!Number.isSafeInteger(index) || index < 0 || index >= 2 ** path.length || path.some((h) => h.length !== 32)) return false
    // rt33a: the leaf reads seq and head as hex (an upper-case or suffixed head gave the same leaf without the schema).
    if (!Number.isSafeInteger(checkpoint.seq) || checkpoint.seq < 0 || typeof checkpoint.head !== 'string' || !HEAD.test(checkpoint.head)) return false
    const root = `0x${auditTurnRoot(checkpoint.seq, checkpoint.head, index, path).toString('hex')}`
    const message = auditTurnMessage({ root, time: checkpoint.time, chain: checkpoint.chain })
    let seen = VERIFIED.get(publicKey)
    if (!seen) VERIFIED.set(publicKey, (seen = new Set()))
    const key = `${parts[0]}${Buffer.from(message).toString('latin1')}`
    if (seen.has(key)) return true
    if (!verify(null, message, publicKey, signature)) return false
    if (seen.size >= 256) seen.delete(seen.values().next().value!)
    seen.add(key)
    return true
  } catch {
    return false
  }
}

const HEAD = /^0x[0-9a-f]{64}$/

/** Turn messages already verified, per key object (oldest forgotten first). */
const VERIFIED = new WeakMap<KeyObject, Set<string>>()
