/** A host that swaps, splices or rolls back KMS-sealed blobs gets a typed refusal, never foreign plaintext. */
import { generateKeyPairSync } from 'node:crypto'
import { decode, encode } from 'cborg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SealError } from '../../enclave/seal/SealError.js'
import { type KmsSealer, createKmsSealer } from '../../enclave/seal/kmsSealer.js'
import { type KmsTestEnv, startKmsTestEnv } from './kmsTestEnv.js'

let env: KmsTestEnv
let sealer: KmsSealer
const pt = (s: string) => new TextEncoder().encode(s)
beforeAll(async () => {
  env = await startKmsTestEnv()
  sealer = createKmsSealer({ kmsClient: env.client, keyId: env.server.keyId, nsm: env.nsm })
})
afterAll(() => env.close())

async function codeOf(p: Promise<unknown>): Promise<string> {
  const e = await p.then(() => null, (err: unknown) => err)
  expect(e).toBeInstanceOf(SealError)
  return (e as SealError).code
}

describe('KMS-sealed blobs the host swaps', () => {
  it('refuses a blob for another wallet or purpose before asking KMS', async () => {
    const blob = await sealer.seal({ purpose: 'wallet-key', walletId: '0xaaa', version: 1, plaintext: pt('A') })
    const before = env.server.calls.length
    expect(await codeOf(sealer.unseal({ blob, purpose: 'wallet-key', walletId: '0xbbb' }))).toBe('seal_context_mismatch')
    expect(await codeOf(sealer.unseal({ blob, purpose: 'enclave-state', walletId: '0xaaa' }))).toBe('seal_context_mismatch')
    expect(env.server.calls.length).toBe(before)
  })

  it('refuses a blob whose header was relabelled for the target wallet (KMS binds the context)', async () => {
    const blob = decode(await sealer.seal({ purpose: 'wallet-key', walletId: '0xaaa', version: 1, plaintext: pt('A') })) as Record<string, unknown>
    const relabelled = encode({ ...blob, walletId: '0xbbb' })
    expect(await codeOf(sealer.unseal({ blob: relabelled, purpose: 'wallet-key', walletId: '0xbbb' }))).toBe('seal_auth_failed')
    expect(env.server.calls.at(-1)?.encryptionContext).toEqual({ purpose: 'wallet-key', walletId: '0xbbb', version: '1' })
    const repurposed = encode({ ...blob, purpose: 'enclave-state' })
    expect(await codeOf(sealer.unseal({ blob: repurposed, purpose: 'enclave-state', walletId: '0xaaa' }))).toBe('seal_auth_failed')
  })

  it('refuses an older version presented as newer, and a whole older blob once a newer one was seen', async () => {
    const s = createKmsSealer({ kmsClient: env.client, keyId: env.server.keyId, nsm: env.nsm })
    const v1 = await s.seal({ purpose: 'enclave-state', walletId: '', version: 1, plaintext: pt('old') })
    const v2 = await s.seal({ purpose: 'enclave-state', walletId: '', version: 2, plaintext: pt('new') })
    const o1 = decode(v1) as Record<string, unknown>
    const o2 = decode(v2) as Record<string, unknown>
    // Old data key + ciphertext under the new version number: KMS refuses the context.
    expect(await codeOf(s.unseal({ blob: encode({ ...o1, version: 2 }), purpose: 'enclave-state', walletId: '' }))).toBe('seal_auth_failed')
    // New data key with old ciphertext: the data key opens but the GCM tag fails.
    expect(await codeOf(s.unseal({ blob: encode({ ...o2, iv: o1.iv, ct: o1.ct }), purpose: 'enclave-state', walletId: '' }))).toBe('seal_auth_failed')
    expect((await s.unseal({ blob: v2, purpose: 'enclave-state', walletId: '' })).version).toBe(2)
    expect(await codeOf(s.unseal({ blob: v1, purpose: 'enclave-state', walletId: '' }))).toBe('seal_version_rollback')
    // A restarted enclave has no memory: it returns version 1 and the caller compares with its high-water marks.
    const fresh = createKmsSealer({ kmsClient: env.client, keyId: env.server.keyId, nsm: env.nsm })
    expect((await fresh.unseal({ blob: v1, purpose: 'enclave-state', walletId: '' })).version).toBe(1)
  })

  it('refuses edited ciphertext, a sim blob, and garbage as typed errors', async () => {
    const o = decode(await sealer.seal({ purpose: 'p', walletId: 'w', version: 1, plaintext: pt('x') })) as Record<string, unknown>
    const ct = new Uint8Array(o.ct as Uint8Array)
    ct[0]! ^= 1
    expect(await codeOf(sealer.unseal({ blob: encode({ ...o, ct }), purpose: 'p', walletId: 'w' }))).toBe('seal_auth_failed')
    expect(await codeOf(sealer.unseal({ blob: encode({ ...o, kind: 'sim' }), purpose: 'p', walletId: 'w' }))).toBe('seal_blob_malformed')
    expect(await codeOf(sealer.unseal({ blob: new Uint8Array([1, 2, 3]), purpose: 'p', walletId: 'w' }))).toBe('seal_blob_malformed')
    const dataKey = new Uint8Array(o.dataKey as Uint8Array)
    dataKey[10]! ^= 1
    expect(await codeOf(sealer.unseal({ blob: encode({ ...o, dataKey }), purpose: 'p', walletId: 'w' }))).toBe('seal_auth_failed')
  })
})

describe('KMS answers the host tampers with', () => {
  it('refuses a Recipient answer encrypted to another RSA key', async () => {
    const blob = await sealer.seal({ purpose: 'p', walletId: 'w', version: 1, plaintext: pt('x') })
    env.server.set({ encryptToKey: generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey })
    try {
      expect(await codeOf(sealer.seal({ purpose: 'p', walletId: 'w', version: 2, plaintext: pt('y') }))).toBe('seal_recipient_decrypt_failed')
      expect(await codeOf(sealer.unseal({ blob, purpose: 'p', walletId: 'w' }))).toBe('seal_recipient_decrypt_failed')
    } finally {
      env.server.set({ encryptToKey: undefined })
    }
    expect((await sealer.unseal({ blob, purpose: 'p', walletId: 'w' })).plaintext).toEqual(pt('x'))
  })

  it('refuses an answer that also carries the data key in clear', async () => {
    env.server.set({ leakPlaintext: true })
    try {
      expect(await codeOf(sealer.seal({ purpose: 'p', walletId: 'w', version: 3, plaintext: pt('z') }))).toBe('seal_kms_response_invalid')
    } finally {
      env.server.set({ leakPlaintext: false })
    }
  })
})
