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
  let plaintext: Uint8Array
  try {
    // OpenSSL checks the PKCS#7 padding; a bad one throws and is reported like every other failure (no padding oracle).
    const decipher = createDecipheriv('aes-256-cbc', cek, parsed.iv)
    plaintext = new Uint8Array(Buffer.concat([decipher.update(parsed.ciphertext), decipher.final()]))
  } catch (cause) {
    throw notOpened('AES-256-CBC decryption or its PKCS#7 padding check failed', cause)
  } finally {
    cek.fill(0)
  }
  if (want !== undefined && plaintext.length !== want) {
    plaintext.fill(0)
    throw notOpened('plaintext length differs from the expected one')
  }
  return plaintext
}

/** SECURITY: every failure to open an answer has the same code and message (no distinguishable padding error). */
function notOpened(details: string, cause?: unknown): SealError {
  return new SealError('seal_recipient_decrypt_failed', 'KMS answer could not be opened', { details, cause })
}
