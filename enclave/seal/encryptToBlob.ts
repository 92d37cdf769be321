import { createCipheriv, randomBytes } from 'node:crypto'
import { cborHead, concat, encodeWithRaw } from '../../core/state/encodeWithRaw.js'

/**
 * AES-256-GCM of `plaintext` (bytes, or parts streamed through one cipher: the same ciphertext as for their
 * concatenation) into the CBOR map `fields` + iv + ct, as cborg's `encode` writes it. tail37: the ciphertext is copied
 * once, into the blob (was: the parts joined, the ciphertext joined, then copied by cborg: three copies of a ~1 MB seal).
 */
export function encryptToBlob(key: Uint8Array, aad: Uint8Array, plaintext: Uint8Array | Uint8Array[], fields: Record<string, unknown>): Uint8Array {
  const iv = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', key, iv)
  cipher.setAAD(aad)
  const ct = [...[plaintext].flat().map((p) => cipher.update(p)), cipher.final(), cipher.getAuthTag()]
  return concat(encodeWithRaw({ ...fields, iv, ct: null }, { ct: [cborHead(0x40, ct.reduce((n, p) => n + p.length, 0)), ...ct] }))
}
