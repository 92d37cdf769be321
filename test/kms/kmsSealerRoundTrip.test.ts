import { DecryptCommand, GenerateDataKeyCommand } from '@aws-sdk/client-kms'
import { decode } from 'cborg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { unsafeParseAttestationDoc } from '../../shared/attestation/unsafeParseAttestationDoc.js'
import { createKmsSealer } from '../../enclave/seal/kmsSealer.js'
import { type KmsTestEnv, startKmsTestEnv } from './kmsTestEnv.js'

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
let env: KmsTestEnv
beforeAll(async () => {
  env = await startKmsTestEnv()
})
afterAll(() => env.close())

describe('createKmsSealer through @aws-sdk/client-kms and the KMS fixture', () => {
  for (const encoding of ['constructed', 'primitive'] as const) {
    it(`seals and unseals with ${encoding} CMS content`, async () => {
      env.server.set({ encoding, chunkSize: 7 })
      const sealer = createKmsSealer({ kmsClient: env.client, keyId: env.server.keyId, nsm: env.nsm })
      const plaintext = new TextEncoder().encode(`wallet key material (${encoding})`)
      const before = env.server.calls.length
      const blob = await sealer.seal({ purpose: 'wallet-key', walletId: '0xabc', version: 4, plaintext })
      expect(await sealer.unseal({ blob, purpose: 'wallet-key', walletId: '0xabc' })).toEqual({ plaintext, version: 4 })
      const calls = env.server.calls.slice(before)
      expect(calls.map((c) => c.target)).toEqual(['GenerateDataKey', 'Decrypt'])
      for (const c of calls) {
        expect(c.recipient).toBe(true)
        expect(c.encryptionContext).toEqual({ purpose: 'wallet-key', walletId: '0xabc', version: '4' })
      }
      // A second sealer (a restarted enclave with a new RSA key) opens the same blob: nothing is tied to the old process.
      const restarted = createKmsSealer({ kmsClient: env.client, keyId: env.server.keyId, nsm: env.nsm })
      expect((await restarted.unseal({ blob, purpose: 'wallet-key', walletId: '0xabc' })).plaintext).toEqual(plaintext)
    })
  }

  it('tail37: seals plaintext parts as their concatenation (the writer hands a wallet blob as parts)', async () => {
    const sealer = createKmsSealer({ kmsClient: env.client, keyId: env.server.keyId, nsm: env.nsm })
    const parts = [new TextEncoder().encode('wallet '), new Uint8Array(0), new Uint8Array(40_000).fill(3)]
    const blob = await sealer.seal({ purpose: 'wallet', walletId: '0xabc', version: 5, plaintext: parts })
    expect(Buffer.from((await sealer.unseal({ blob, purpose: 'wallet', walletId: '0xabc' })).plaintext).equals(Buffer.concat(parts))).toBe(true)
  })

  it('stores the KMS CiphertextBlob and context in the blob, never the data key', async () => {
    const sealer = createKmsSealer({ kmsClient: env.client, keyId: env.server.keyId, nsm: env.nsm })
    const blob = decode(await sealer.seal({ purpose: 'enclave-state', walletId: '', version: 1, plaintext: new Uint8Array(100) })) as Record<string, unknown>
    expect(Object.keys(blob).sort()).toEqual(['ct', 'dataKey', 'iv', 'kind', 'purpose', 'v', 'version', 'walletId'])
    expect(blob).toMatchObject({ v: 1, kind: 'kms', purpose: 'enclave-state', walletId: '', version: 1 })
    expect(Buffer.from(blob.dataKey as Uint8Array).subarray(0, 4).toString()).toBe('BKF1')
    expect(env.server.calls.at(-1)?.encryptionContext).toEqual({ purpose: 'enclave-state', walletId: '(enclave)', version: '1' })
  })

  it('sends an attestation document whose public_key is the RSA key the answer is encrypted to', async () => {
    const sealer = createKmsSealer({ kmsClient: env.client, keyId: env.server.keyId, nsm: env.nsm })
    const seen: Uint8Array[] = []
    const spy = { kind: 'mock' as const, attest: async (p: { publicKey?: Uint8Array | undefined }) => {
      seen.push(p.publicKey!)
      return env.nsm.attest(p)
    } }
    const s2 = createKmsSealer({ kmsClient: env.client, keyId: env.server.keyId, nsm: spy })
    await s2.seal({ purpose: 'p', walletId: 'w', version: 1, plaintext: new Uint8Array(1) })
    await s2.seal({ purpose: 'p', walletId: 'w', version: 2, plaintext: new Uint8Array(1) })
    expect(seen.length).toBe(2)
    expect(hex(seen[0]!)).toBe(hex(seen[1]!))
    const doc = unsafeParseAttestationDoc(await env.nsm.attest({ publicKey: seen[0]! })).document
    expect(hex(doc.publicKey!)).toBe(hex(seen[0]!))
    expect(sealer.kind).toBe('kms')
  })

  it('the fixture behaves like a key policy with the attestation condition: no Recipient, no key', async () => {
    const deny = await env.client.send(new GenerateDataKeyCommand({ KeyId: env.server.keyId, KeySpec: 'AES_256' })).catch((e) => e)
    expect(deny.name).toBe('AccessDeniedException')
    env.server.set({ requireRecipient: false })
    try {
      const out = await env.client.send(new GenerateDataKeyCommand({ KeyId: env.server.keyId, KeySpec: 'AES_256', EncryptionContext: { a: '1' } }))
      expect(out.Plaintext?.length).toBe(32)
      const back = await env.client.send(new DecryptCommand({ CiphertextBlob: out.CiphertextBlob, EncryptionContext: { a: '1' } }))
      expect(back.Plaintext).toEqual(out.Plaintext)
      const wrong = await env.client.send(new DecryptCommand({ CiphertextBlob: out.CiphertextBlob, EncryptionContext: { a: '2' } })).catch((e) => e)
      expect(wrong.name).toBe('InvalidCiphertextException')
    } finally {
      env.server.set({ requireRecipient: true })
    }
  })

  it('works when the key policy pins this image\'s PCR0/PCR1/PCR2', async () => {
    const pcrs = Object.fromEntries([0, 1, 2].map((i) => [i, hex(env.nsm.pcrs.get(i)!)]))
    env.server.set({ requirePcrs: pcrs })
    try {
      const sealer = createKmsSealer({ kmsClient: env.client, keyId: env.server.keyId, nsm: env.nsm })
      const blob = await sealer.seal({ purpose: 'p', walletId: 'w', version: 1, plaintext: new Uint8Array([1, 2, 3]) })
      expect((await sealer.unseal({ blob, purpose: 'p', walletId: 'w' })).plaintext).toEqual(new Uint8Array([1, 2, 3]))
    } finally {
      env.server.set({ requirePcrs: {} })
    }
  })
})
