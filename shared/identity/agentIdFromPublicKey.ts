import { createHash } from 'node:crypto'

/** Agent ID = 'agt_' + first 20 bytes (hex) of SHA-256 over the raw 32-byte Ed25519 public key. */
export function agentIdFromPublicKey(rawPublicKey: Uint8Array): string {
  return `agt_${createHash('sha256').update(rawPublicKey).digest('hex').slice(0, 40)}`
}
