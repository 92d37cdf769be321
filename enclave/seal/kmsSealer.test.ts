import { describe, expect, it } from 'vitest'
import { createKmsSealer } from './kmsSealer.js'
import { SealError } from './SealError.js'

const nsm = { kind: 'mock' as const, attest: async () => new Uint8Array() }
// Never used: every case below fails before any request (the endpoint is a closed loopback port).
const sealer = createKmsSealer({ endpoint: 'http://127.0.0.1:9', region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, keyId: 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab', nsm })

async function codeOf(fn: () => unknown): Promise<string> {
  const e = await Promise.resolve().then(fn).then(() => null, (err: unknown) => err)
  expect(e).toBeInstanceOf(SealError)
  return (e as SealError).code
}

describe('createKmsSealer (no KMS needed)', () => {
  it('refuses bad parameters before calling KMS', async () => {
    expect(await codeOf(() => createKmsSealer({ keyId: '', nsm }))).toBe('seal_options_invalid')
    // SECURITY: an alias (or bare key id) could be re-pointed by whoever controls the host's KMS credentials.
    for (const keyId of ['alias/bursar', 'arn:aws:kms:us-east-1:111122223333:alias/bursar', '1234abcd-12ab-34cd-56ef-1234567890ab']) {
      expect(await codeOf(() => createKmsSealer({ keyId, nsm }))).toBe('seal_options_invalid')
    }
    expect(await codeOf(() => sealer.seal({ purpose: '', walletId: 'w', version: 1, plaintext: new Uint8Array() }))).toBe('seal_options_invalid')
    expect(await codeOf(() => sealer.seal({ purpose: 'p', walletId: '(enclave)', version: 1, plaintext: new Uint8Array() }))).toBe('seal_options_invalid')
    expect(await codeOf(() => sealer.seal({ purpose: 'p', walletId: 'w', version: -1, plaintext: new Uint8Array() }))).toBe('seal_options_invalid')
    expect(await codeOf(() => sealer.seal({ purpose: 'p', walletId: 'w', version: 1.5, plaintext: new Uint8Array() }))).toBe('seal_options_invalid')
  })

  it('refuses malformed blobs before calling KMS', async () => {
    for (const blob of [new Uint8Array(), new Uint8Array([0xa0]), new Uint8Array([0xff, 0x00])]) {
      expect(await codeOf(() => sealer.unseal({ blob, purpose: 'p', walletId: 'w' }))).toBe('seal_blob_malformed')
    }
  })
})
