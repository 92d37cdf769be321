import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import { x25519 } from '@noble/curves/ed25519.js'
import { hkdf } from '@noble/hashes/hkdf.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { concatBytes, utf8ToBytes } from '@noble/hashes/utils.js'
import { EnclaveError } from '../errors/EnclaveError.js'

/**
 * SECURITY: a wallet key sealed to an X25519 public key, HPKE-style (base mode): a fresh ephemeral X25519 key, ECDH
 * with the recipient, HKDF-SHA256 (salt = ephemeral ‖ recipient public key, info = purpose ‖ context), then
 * ChaCha20-Poly1305 with `context` (the wallet address) as associated data. Layout: ephemeral public key (32) ‖
 * nonce (12) ‖ ciphertext (32) ‖ tag (16) = 92 bytes. Used both ways: export (to the owner's key) and import (to the
 * enclave's attested import key).
 */
export const SEALED_KEY_BYTES = 92
const INFO = 'bursar key exit v1|'

function aeadKey(shared: Uint8Array, eph: Uint8Array, recipient: Uint8Array, context: string): Uint8Array {
  // A low-order recipient key gives an all-zero secret that anyone knows.
  if (shared.every((b) => b === 0)) throw new EnclaveError('owner_act_invalid', 'X25519 key of low order')
  return hkdf(sha256, shared, concatBytes(eph, recipient), utf8ToBytes(INFO + context.toLowerCase()), 32)
}

export function sealToX25519(recipient: Uint8Array, plaintext: Uint8Array, context: string): Uint8Array {
  if (recipient.length !== 32 || plaintext.length !== 32) throw new EnclaveError('owner_act_invalid', 'expected a 32-byte X25519 key and a 32-byte secret')
  const ephSecret = new Uint8Array(randomBytes(32))
  const eph = x25519.getPublicKey(ephSecret)
  const key = aeadKey(x25519.getSharedSecret(ephSecret, recipient), eph, recipient, context)
  ephSecret.fill(0)
  const nonce = randomBytes(12)
  const c = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 }).setAAD(utf8ToBytes(context.toLowerCase()), { plaintextLength: 32 })
  const body = Buffer.concat([c.update(plaintext), c.final()])
  key.fill(0)
  return concatBytes(eph, nonce, body, c.getAuthTag())
}

/** Opens what sealToX25519 made for this secret key and context; throws on any tampering or a wrong key. */
export function openFromX25519(secret: Uint8Array, sealed: Uint8Array, context: string): Uint8Array {
  if (sealed.length !== SEALED_KEY_BYTES) throw new EnclaveError('import_key_invalid', `expected ${SEALED_KEY_BYTES} sealed bytes`)
  const eph = sealed.subarray(0, 32)
  const key = aeadKey(x25519.getSharedSecret(secret, eph), eph, x25519.getPublicKey(secret), context)
  const d = createDecipheriv('chacha20-poly1305', key, sealed.subarray(32, 44), { authTagLength: 16 }).setAAD(utf8ToBytes(context.toLowerCase()), { plaintextLength: 32 })
  d.setAuthTag(sealed.subarray(76))
  const out = new Uint8Array(Buffer.concat([d.update(sealed.subarray(44, 76)), d.final()]))
  key.fill(0)
  return out
}

export const x25519PublicKey = (secret: Uint8Array): Uint8Array => x25519.getPublicKey(secret)

/** What the enclave's attested receipt key signs to vouch for its X25519 import key (hex, no 0x). */
export const importKeyMessage = (importKeyHex: string): Uint8Array => utf8ToBytes(`bursar import key v1:${importKeyHex.replace(/^0x/, '').toLowerCase()}`)
