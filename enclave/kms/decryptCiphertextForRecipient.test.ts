import { createPrivateKey, generateKeyPairSync, randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { buildEnvelopedData } from '../../test/kms/buildEnvelopedData.js'
import { OAEP_256, haveOpenssl, opensslDecrypt, opensslEncrypt } from '../../test/kms/opensslCms.js'
import { SealError } from '../seal/SealError.js'
import { decryptCiphertextForRecipient } from './decryptCiphertextForRecipient.js'
import { parseCiphertextForRecipient } from './parseCiphertextForRecipient.js'

const mine = generateKeyPairSync('rsa', { modulusLength: 2048 })
const other = generateKeyPairSync('rsa', { modulusLength: 2048 })
const dataKey = new Uint8Array(randomBytes(32))

function code(fn: () => unknown): string {
  try {
    fn()
  } catch (e) {
    expect(e).toBeInstanceOf(SealError)
    return (e as SealError).code
  }
  return 'ok'
}

describe('decryptCiphertextForRecipient', () => {
  it('recovers the plaintext from both content encodings', () => {
    for (const encoding of ['primitive', 'constructed'] as const) {
      const cms = buildEnvelopedData({ plaintext: dataKey, recipient: mine.publicKey, encoding, chunkSize: 7 })
      expect(decryptCiphertextForRecipient({ cms, rsaPrivateKey: mine.privateKey, expectedLength: 32 })).toEqual(dataKey)
    }
  })

  it('refuses an answer encrypted to another RSA key', () => {
    const cms = buildEnvelopedData({ plaintext: dataKey, recipient: other.publicKey, encoding: 'constructed' })
    expect(code(() => decryptCiphertextForRecipient({ cms, rsaPrivateKey: mine.privateKey }))).toBe('seal_recipient_decrypt_failed')
  })

  it('refuses a plaintext of the wrong length before and after decrypting', () => {
    const long = buildEnvelopedData({ plaintext: new Uint8Array(48), recipient: mine.publicKey, encoding: 'primitive' })
    expect(code(() => decryptCiphertextForRecipient({ cms: long, rsaPrivateKey: mine.privateKey, expectedLength: 32 }))).toBe('seal_recipient_decrypt_failed')
    const short = buildEnvelopedData({ plaintext: new Uint8Array(40), recipient: mine.publicKey, encoding: 'primitive' })
    expect(code(() => decryptCiphertextForRecipient({ cms: short, rsaPrivateKey: mine.privateKey, expectedLength: 32 }))).toBe('seal_recipient_decrypt_failed')
  })

  it('refuses edited ciphertext with the same code as a wrong key (no padding oracle)', () => {
    const cms = buildEnvelopedData({ plaintext: dataKey, recipient: mine.publicKey, encoding: 'primitive' })
    const parsed = parseCiphertextForRecipient(cms)
    // The primitive form ends with the ciphertext: flip a bit in its second-to-last block.
    const edited = new Uint8Array(cms)
    edited[edited.length - 17]! ^= 0x01
    expect(parseCiphertextForRecipient(edited).ciphertext).not.toEqual(parsed.ciphertext)
    expect(code(() => decryptCiphertextForRecipient({ cms: edited, rsaPrivateKey: mine.privateKey, expectedLength: 32 }))).toBe('seal_recipient_decrypt_failed')
    // Without a length to compare, the PKCS#7 padding check alone refuses it, with the same code.
    expect(code(() => decryptCiphertextForRecipient({ cms: edited, rsaPrivateKey: mine.privateKey }))).toBe('seal_recipient_decrypt_failed')
    for (const pad of [0x00, 0x11, 0x0f]) {
      const bad = new Uint8Array(cms)
      bad[bad.length - 17] = bad[bad.length - 17]! ^ 0x10 ^ pad // the last plaintext byte (16: a full pad block) becomes `pad`
      expect(code(() => decryptCiphertextForRecipient({ cms: bad, rsaPrivateKey: mine.privateKey }))).toBe('seal_recipient_decrypt_failed')
    }
    expect(decryptCiphertextForRecipient({ cms, rsaPrivateKey: mine.privateKey })).toEqual(dataKey)
  })

  it.skipIf(!haveOpenssl)('interoperates with OpenSSL in both directions', () => {
    for (const extra of [['-stream'], []]) {
      const { cms, keyPem } = opensslEncrypt(dataKey, ['-aes256', ...OAEP_256, ...extra])
      expect(decryptCiphertextForRecipient({ cms, rsaPrivateKey: createPrivateKey(keyPem), expectedLength: 32 })).toEqual(dataKey)
    }
    const keyPem = mine.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString()
    for (const encoding of ['primitive', 'constructed'] as const) {
      const cms = buildEnvelopedData({ plaintext: dataKey, recipient: mine.publicKey, encoding })
      expect(opensslDecrypt(cms, keyPem)).toEqual(dataKey)
    }
  })
})
