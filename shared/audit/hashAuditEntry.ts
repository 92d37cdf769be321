import { canonicalJson } from '../canonical/canonicalJson.js'
import type { AuditEntry } from './auditEntry.js'
import { hashCanonicalAuditEntry } from './hashCanonicalAuditEntry.js'

export { AUDIT_ENTRY_TAG, GENESIS_HASH, hashCanonicalAuditEntry } from './hashCanonicalAuditEntry.js'

/**
 * Entry hash = SHA-256(tag ‖ prevHash (32 bytes) ‖ UTF-8 canonicalJson(entry)),
 * the entry including its own seq and prevHash; returns 0x-prefixed lowercase hex.
 */
export function hashAuditEntry(entry: AuditEntry): string {
  return hashCanonicalAuditEntry(entry.prevHash, canonicalJson(entry))
}
