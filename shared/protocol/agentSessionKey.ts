import { type KeyObject, createHash, createPublicKey, hkdfSync } from 'node:crypto'

/**
 * The per-session MAC key both sides derive (docs/agent-sdk.md "Sessions"): HKDF-SHA256 over the X25519 secret,
 * salted with the SHA-256 of the exact signed openSession text, bound to the enclave's public key.
 */
export function agentSessionKey(shared: Buffer, openText: string, enclavePubHex: string): Buffer {
  const salt = createHash('sha256').update(openText, 'utf8').digest()
  return Buffer.from(hkdfSync('sha256', shared, salt, `bursar agent session v1 ${enclavePubHex}`, 32))
}

/** An X25519 public key from its 32-byte hex form, and back. */
export const x25519FromHex = (hex: string): KeyObject => createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: Buffer.from(hex, 'hex').toString('base64url') }, format: 'jwk' })
export const x25519Hex = (k: KeyObject): string => Buffer.from(k.export({ format: 'jwk' }).x!, 'base64url').toString('hex')
