import { type KeyObject, constants, createDecipheriv, privateDecrypt } from 'node:crypto'
import { SealError } from '../seal/SealError.js'
import { parseCiphertextForRecipient } from './parseCiphertextForRecipient.js'

export type DecryptCiphertextForRecipientParameters = {
  /** KMS `CiphertextForRecipient` (BER CMS EnvelopedData). */
  cms: Uint8Array
  /** The enclave's RSA private key whose public half was in the attestation document. */
  rsaPrivateKey: KeyObject
  /**
   * Exact plaintext length expected (32 for a KMS data key). Checked before
   * decrypting and again after, so a host replaying edited answers gets no
   * byte-at-a-time CBC padding oracle.
   */
  expectedLength?: number | undefined
}

/**
 * Opens a KMS `CiphertextForRecipient`: RSA-OAEP(SHA-256) unwraps the
 * content key, AES-256-CBC decrypts, PKCS#7 padding is checked; an answer
 * encrypted to any other RSA key fails with seal_recipient_decrypt_failed.
 */
export function decryptCiphertextForRecipient(params: DecryptCiphertextForRecipientParameters): Uint8Array {
  const parsed = parseCiphertextForRecipient(params.cms)
  const want = params.expectedLength
  if (want !== undefined && parsed.ciphertext.length !== (Math.floor(want / 16) + 1) * 16) {
    throw notOpened(`ciphertext is ${parsed.ciphertext.length} bytes, expected a ${want}-byte plaintext`)
  }
  let cek: Buffer
  try {
    cek = privateDecrypt(
      { key: params.rsaPrivateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
      parsed.encryptedKey,
    )
  } catch (cause) {
    throw notOpened('RSA-OAEP unwrap failed', cause)
  }
  // SECURITY: the content key must be exactly an AES-256 key; anything else is not what KMS sends.
  if (cek.length !== 32) {
    cek.fill(0)
    throw notOpened(`content key is ${cek.length} bytes, expected 32`)
  }
  try {
    const decipher = createDecipheriv('aes-256-cbc', cek, parsed.iv)
    decipher.setAutoPadding(false)
    const padded = Buffer.concat([decipher.update(parsed.ciphertext), decipher.final()])
    const plaintext = unpad(padded)
    if (want !== undefined && plaintext.length !== want) {
      plaintext.fill(0)
      throw notOpened('plaintext length differs from the expected one')
    }
    return plaintext
  } finally {
    cek.fill(0)
  }
}

/** Strips PKCS#7 padding after checking every pad byte. */
function unpad(padded: Buffer): Uint8Array {
  const n = padded[padded.length - 1] ?? 0
  let ok = n >= 1 && n <= 16 && n <= padded.length
  for (let i = 1; ok && i <= n; i++) ok = padded[padded.length - i] === n
  if (!ok) {
    padded.fill(0)
    throw notOpened('PKCS#7 padding check failed')
  }
  const out = new Uint8Array(padded.subarray(0, padded.length - n))
  padded.fill(0)
  return out
}

/** SECURITY: every failure to open an answer has the same code and message (no distinguishable padding error). */
function notOpened(details: string, cause?: unknown): SealError {
  return new SealError('seal_recipient_decrypt_failed', 'KMS answer could not be opened', { details, cause })
}
