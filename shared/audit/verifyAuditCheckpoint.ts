import { type KeyObject, verify } from 'node:crypto'
import type { AuditCheckpoint } from './auditEntry.js'
import { auditCheckpointMessage } from './auditCheckpointMessage.js'

/** True when the checkpoint's Ed25519 signature verifies under the enclave's receipt key. */
export function verifyAuditCheckpoint(checkpoint: AuditCheckpoint, publicKey: KeyObject): boolean {
  const signature = Buffer.from(checkpoint.signature.slice(2), 'hex')
  if (signature.length !== 64) return false
  try {
    return verify(null, auditCheckpointMessage(checkpoint), publicKey, signature)
  } catch {
    return false
  }
}
