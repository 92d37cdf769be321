import { createHash } from 'node:crypto'

/** Domain-separation tag prefixed (as its 21 ASCII bytes) to every entry preimage. */
export const AUDIT_ENTRY_TAG = 'bursar.audit.entry.v1'
/** prevHash of the entry at seq 0: 32 zero bytes. */
export const GENESIS_HASH = `0x${'00'.repeat(32)}`

const TAG_BYTES = Buffer.from(AUDIT_ENTRY_TAG, 'ascii')

/**
 * Entry hash = SHA-256(tag ‖ prevHash (32 bytes) ‖ UTF-8 canonicalJson(entry)), the entry including its own seq and
 * prevHash, from the entry's canonical JSON (callers canonicalize once); 0x-prefixed lowercase hex. The enclave's
 * half of hashAuditEntry.ts (diet37: the signer never hashes an entry it has not canonicalized already).
 */
export function hashCanonicalAuditEntry(prevHash: string, canonical: string): string {
  return `0x${createHash('sha256')
    .update(TAG_BYTES)
    .update(Buffer.from(prevHash.slice(2), 'hex'))
    .update(canonical, 'utf8')
    .digest('hex')}`
}
