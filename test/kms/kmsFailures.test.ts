/** KMS outages and refusals surface as typed SealErrors with a next step, and nothing stored is lost. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SealError } from '../../enclave/seal/SealError.js'
import { errorHint } from '../../shared/errors/errorCodes.js'
import { createKmsSealer } from '../../enclave/seal/kmsSealer.js'
import { type KmsTestEnv, startKmsTestEnv } from './kmsTestEnv.js'
import { startKmsServer } from '../fixtures/kmsServer.js'

let env: KmsTestEnv
beforeAll(async () => {
  env = await startKmsTestEnv()
})
afterAll(() => env.close())

async function errorOf(p: Promise<unknown>): Promise<SealError> {
  const e = await p.then(() => null, (err: unknown) => err)
  expect(e).toBeInstanceOf(SealError)
  return e as SealError
}

describe('KMS failures', () => {
  it('a 5xx is seal_kms_unavailable; the stored blob still opens once KMS is back', async () => {
    const sealer = createKmsSealer({ kmsClient: env.client, keyId: env.server.keyId, nsm: env.nsm })
    const blob = await sealer.seal({ purpose: 'p', walletId: 'w', version: 1, plaintext: new Uint8Array([42]) })
    env.server.set({ fault: { status: 500, type: 'KMSInternalException', times: 2 } })
    const e1 = await errorOf(sealer.unseal({ blob, purpose: 'p', walletId: 'w' }))
    expect(e1.code).toBe('seal_kms_unavailable')
    expect(errorHint(e1.code)).toMatch(/Nothing stored was changed/)
    expect((await errorOf(sealer.seal({ purpose: 'p', walletId: 'w', version: 2, plaintext: new Uint8Array(1) }))).code).toBe('seal_kms_unavailable')
    expect((await sealer.unseal({ blob, purpose: 'p', walletId: 'w' })).plaintext).toEqual(new Uint8Array([42]))
  })

  it('the SDK retries a 503 when the sealer builds its own client', async () => {
    const sealer = createKmsSealer({
      endpoint: env.server.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIDFIXTURE', secretAccessKey: 'x' },
      maxAttempts: 3,
      keyId: env.server.keyId,
      nsm: env.nsm,
    })
    const before = env.server.calls.length
    env.server.set({ fault: { status: 503, type: 'ServiceUnavailableException', times: 1 } })
    const blob = await sealer.seal({ purpose: 'p', walletId: 'w', version: 1, plaintext: new Uint8Array([7]) })
    expect(env.server.calls.length - before).toBe(2)
    expect((await sealer.unseal({ blob, purpose: 'p', walletId: 'w' })).plaintext).toEqual(new Uint8Array([7]))
  })

  it('AccessDenied (the key policy pins other PCRs) is seal_kms_denied with what to check', async () => {
    const sealer = createKmsSealer({ kmsClient: env.client, keyId: env.server.keyId, nsm: env.nsm })
    env.server.set({ requirePcrs: { 0: 'ab'.repeat(48) } })
    try {
      const e = await errorOf(sealer.seal({ purpose: 'p', walletId: 'w', version: 1, plaintext: new Uint8Array(1) }))
      expect(e.code).toBe('seal_kms_denied')
      expect(e.details).toMatch(/AccessDeniedException/)
      expect(errorHint(e.code)).toMatch(/bursar nitro pcrs/)
    } finally {
      env.server.set({ requirePcrs: {} })
    }
  })

  it('an attestation document from an untrusted root is refused by KMS', async () => {
    const other = await startKmsTestEnv() // another simulation PKI
    try {
      const sealer = createKmsSealer({ kmsClient: env.client, keyId: env.server.keyId, nsm: other.nsm })
      const e = await errorOf(sealer.seal({ purpose: 'p', walletId: 'w', version: 1, plaintext: new Uint8Array(1) }))
      expect(e.code).toBe('seal_kms_error')
      expect(e.details).toMatch(/ValidationException.*attestation document invalid/)
    } finally {
      await other.close()
    }
  })

  it('an unknown key is seal_kms_key_unusable; a closed port is seal_kms_unavailable', async () => {
    const wrongKey = createKmsSealer({ kmsClient: env.client, keyId: 'arn:aws:kms:us-east-1:111122223333:key/00000000-0000-0000-0000-000000000000', nsm: env.nsm })
    expect((await errorOf(wrongKey.seal({ purpose: 'p', walletId: 'w', version: 1, plaintext: new Uint8Array(1) }))).code).toBe('seal_kms_key_unusable')
    const gone = await startKmsServer({ attestationRoot: env.rootPem })
    await gone.close()
    const down = createKmsSealer({ endpoint: gone.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'A', secretAccessKey: 'B' }, maxAttempts: 1, keyId: gone.keyId, nsm: env.nsm })
    expect((await errorOf(down.seal({ purpose: 'p', walletId: 'w', version: 1, plaintext: new Uint8Array(1) }))).code).toBe('seal_kms_unavailable')
  })

  it('an NSM failure is seal_attestation_failed', async () => {
    const broken = { kind: 'mock' as const, attest: async () => Promise.reject(new Error('nsm gone')) }
    const sealer = createKmsSealer({ kmsClient: env.client, keyId: env.server.keyId, nsm: broken })
    expect((await errorOf(sealer.seal({ purpose: 'p', walletId: 'w', version: 1, plaintext: new Uint8Array(1) }))).code).toBe('seal_attestation_failed')
  })
})
