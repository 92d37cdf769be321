import * as nodeCrypto from 'node:crypto'
import { describe, expect, it } from 'vitest'
import * as shim from './nodeCrypto.browser.js'

/** The console's node:crypto stand-in must agree with node's own on everything the shared verifiers call. */
describe('nodeCrypto.browser (the console shim) agrees with node:crypto', () => {
  it('SHA-256 of strings (utf8 / hex) and bytes', () => {
    for (const [v, enc] of [['bursar ✓', undefined], ['00ff10', 'hex'], [new Uint8Array([1, 2, 3]), undefined]] as const) {
      const want = nodeCrypto.createHash('sha256').update(v as never, enc as never).digest('hex')
      expect(shim.createHash('sha256').update(v, enc).digest('hex')).toBe(want)
    }
  })

  it('Ed25519: a node signature verifies, a changed message or signature does not', () => {
    const { publicKey, privateKey } = nodeCrypto.generateKeyPairSync('ed25519')
    const msg = Buffer.from('checkpoint')
    const sig = nodeCrypto.sign(null, msg, privateKey)
    const key = shim.createPublicKey({ key: publicKey.export({ format: 'der', type: 'spki' }), format: 'der', type: 'spki' })
    expect(key.asymmetricKeyType).toBe('ed25519')
    expect(shim.verify(null, msg, key, sig)).toBe(true)
    expect(shim.verify(null, Buffer.from('checkpoinT'), key, sig)).toBe(false)
    sig[0]! ^= 1
    expect(shim.verify(null, msg, key, sig)).toBe(false)
  })

  it('ECDSA P-384 over SHA-384, DER and IEEE-P1363 signatures (X.509 and COSE)', () => {
    const { publicKey, privateKey } = nodeCrypto.generateKeyPairSync('ec', { namedCurve: 'secp384r1' })
    const key = shim.createPublicKey({ key: publicKey.export({ format: 'der', type: 'spki' }), format: 'der', type: 'spki' })
    expect(key.asymmetricKeyDetails?.namedCurve).toBe('secp384r1')
    for (let i = 0; i < 8; i++) {
      const msg = nodeCrypto.randomBytes(100)
      const der = nodeCrypto.sign('sha384', msg, { key: privateKey, dsaEncoding: 'der' })
      const raw = nodeCrypto.sign('sha384', msg, { key: privateKey, dsaEncoding: 'ieee-p1363' })
      expect(shim.verify('sha384', msg, { key, dsaEncoding: 'der' }, der)).toBe(true)
      expect(shim.verify('sha384', msg, { key, dsaEncoding: 'ieee-p1363' }, raw)).toBe(true)
      expect(shim.verify('sha384', nodeCrypto.randomBytes(100), { key, dsaEncoding: 'der' }, der)).toBe(false)
    }
  })

  it('refuses key types it does not know', () => {
    const { publicKey } = nodeCrypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
    expect(() => shim.createPublicKey({ key: publicKey.export({ format: 'der', type: 'spki' }), format: 'der', type: 'spki' })).toThrow()
  })
})
