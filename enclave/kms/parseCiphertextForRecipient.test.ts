import { generateKeyPairSync } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { buildEnvelopedData } from '../../test/kms/buildEnvelopedData.js'
import { OAEP_256, haveOpenssl, opensslEncrypt } from '../../test/kms/opensslCms.js'
import { SealError } from '../seal/SealError.js'
import { parseCiphertextForRecipient } from './parseCiphertextForRecipient.js'

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const vectorsDir = process.env.BURSAR_NITRO_VECTORS ?? resolve(repoRoot, '../shared/vectors/nitro')
const vectorPath = join(vectorsDir, 'kms_cms_envelopeddata_constructed.ber')
const haveVector = existsSync(vectorPath)
if (!haveVector) console.warn(`\n*** SKIPPING KMS CMS vector tests: ${vectorPath} not found (set BURSAR_NITRO_VECTORS) ***\n`)
if (!haveOpenssl) console.warn('\n*** SKIPPING OpenSSL-produced CMS tests: openssl CLI not found ***\n')

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })

/** Returns the SealError code, or 'ok'; anything else (a crash) fails the test. */
function outcome(bytes: Uint8Array): string {
  try {
    parseCiphertextForRecipient(bytes)
    return 'ok'
  } catch (e) {
    if (!(e instanceof SealError)) throw e
    return e.code
  }
}


describe.skipIf(!haveVector)('parseCiphertextForRecipient on the aws-nitro-enclaves-sdk-c sample', () => {
  it('extracts exactly the encrypted key, IV and ciphertext the vector gives', () => {
    const expected = JSON.parse(readFileSync(vectorPath.replace(/\.ber$/, '.json'), 'utf8')).expected_parse
    const parsed = parseCiphertextForRecipient(new Uint8Array(readFileSync(vectorPath)))
    expect(hex(parsed.encryptedKey)).toBe(expected.encrypted_key_hex)
    expect(hex(parsed.iv)).toBe(expected.iv_hex)
    expect(hex(parsed.ciphertext)).toBe(expected.ciphertext_hex)
  })

  it('refuses every truncation and trailing garbage with a typed error', () => {
    const v = new Uint8Array(readFileSync(vectorPath))
    for (let n = 0; n < v.length; n++) expect(outcome(v.subarray(0, n))).toMatch(/^seal_cms_/)
    expect(outcome(new Uint8Array([...v, 0]))).toBe('seal_cms_malformed')
  })

  it('never crashes on single-byte mutations', () => {
    const v = new Uint8Array(readFileSync(vectorPath))
    fc.assert(
      fc.property(fc.nat(v.length - 1), fc.integer({ min: 1, max: 255 }), (i, x) => {
        const m = new Uint8Array(v)
        m[i]! ^= x
        expect(outcome(m)).toMatch(/^(ok|seal_cms_malformed|seal_cms_unsupported)$/)
      }),
      { numRuns: 3000 },
    )
  }, 180_000) // suite39: 36 s at load 18 (the default is 60 s); runs only where ../shared/vectors exists, as on CI
})

describe('parseCiphertextForRecipient', () => {
  it('reads both content encodings and concatenates constructed chunks', () => {
    const plaintext = new Uint8Array(32).fill(7)
    const p = parseCiphertextForRecipient(buildEnvelopedData({ plaintext, recipient: publicKey, encoding: 'primitive' }))
    const c = parseCiphertextForRecipient(buildEnvelopedData({ plaintext, recipient: publicKey, encoding: 'constructed', chunkSize: 5 }))
    expect(p.ciphertext.length).toBe(48)
    expect(c.ciphertext.length).toBe(48)
    expect(p.iv.length).toBe(16)
    expect(c.encryptedKey.length).toBe(256)
  })

  it('never crashes on random bytes or random DER-looking prefixes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (b) => {
        expect(outcome(b)).toMatch(/^seal_cms_/)
      }),
      { numRuns: 2000 },
    )
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (b) => {
        expect(outcome(new Uint8Array([0x30, 0x80, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x03, 0xa0, 0x80, ...b]))).toMatch(/^seal_cms_/)
      }),
      { numRuns: 2000 },
    )
  })

  it('refuses oversize input', () => {
    expect(outcome(new Uint8Array(20_000))).toBe('seal_cms_malformed')
  })
})

describe.skipIf(!haveOpenssl)('parseCiphertextForRecipient on OpenSSL-produced CMS', () => {
  const pt = new Uint8Array(32).fill(9)

  it('accepts RSAES-OAEP-SHA-256 with AES-256-CBC, streamed (BER) and DER', () => {
    for (const extra of [['-stream'], []]) {
      const { cms } = opensslEncrypt(pt, ['-aes256', ...OAEP_256, ...extra])
      expect(parseCiphertextForRecipient(cms).ciphertext.length).toBe(48)
    }
  })

  it('refuses OAEP with SHA-1, PKCS#1 v1.5 key transport and AES-128', () => {
    expect(outcome(opensslEncrypt(pt, ['-aes256', '-keyopt', 'rsa_padding_mode:oaep']).cms)).toBe('seal_cms_unsupported')
    expect(outcome(opensslEncrypt(pt, ['-aes256']).cms)).toBe('seal_cms_unsupported')
    expect(outcome(opensslEncrypt(pt, ['-aes128', ...OAEP_256]).cms)).toBe('seal_cms_unsupported')
  })
})
