import { describe, expect, it } from 'vitest'
import { AttestationError } from '../../shared/attestation/AttestationError.js'
import { CertCache } from '../../shared/attestation/CertCache.js'
import { unsafeParseAttestationDoc } from '../../shared/attestation/unsafeParseAttestationDoc.js'
import { type VerifyAttestationOptions, verifyAttestation } from '../../shared/attestation/verifyAttestation.js'
import { loadNitroVectors, type NitroVector } from './loadNitroVectors.js'

const loaded = loadNitroVectors()
const suite = loaded ? describe : describe.skip
const rootPem = loaded?.rootPem ?? ''
const vectors = loaded?.vectors ?? []
const docs = vectors.filter((v) => v.meta.kind === undefined)
const valid = docs.filter((v) => v.meta.expected?.startsWith('valid'))
const invalid = docs.filter((v) => !v.meta.expected?.startsWith('valid'))
const named = (name: string) => vectors.find((v) => v.name.startsWith(name))!

function refusal(bytes: Uint8Array, options: Omit<VerifyAttestationOptions, 'root'> & { root?: string }): AttestationError {
  try {
    verifyAttestation(bytes, { root: rootPem, ...options })
  } catch (err) {
    expect(err).toBeInstanceOf(AttestationError)
    return err as AttestationError
  }
  throw new TypeError('document was verified but a refusal was expected')
}

function expectedCode(v: NitroVector): string {
  const e = v.meta.expected ?? ''
  if (/signature invalid/i.test(e)) return 'attestation_signature_invalid'
  if (/malformed/i.test(e)) return 'attestation_malformed'
  if (/syntactic/i.test(e)) return 'attestation_field_invalid'
  throw new TypeError(`no refusal code known for ${v.name}: ${e}`)
}

suite('Nitro vectors: each gets the verdict its .json states', () => {
  it('found the vectors', () => {
    expect(valid.length).toBeGreaterThanOrEqual(5)
    expect(invalid.length).toBeGreaterThanOrEqual(3)
  })

  describe.each(valid.map((v) => [v.name, v] as const))('%s (valid)', (_name, v) => {
    const ts = v.meta.timestamp_ms!
    const [start, end] = v.meta.valid_window_s!
    const debug = v.meta.payload?.debug_mode_zero_pcr0 === true

    it('verifies at its own timestamp', () => {
      const doc = verifyAttestation(v.bytes, { root: rootPem, at: 'document', allowDebug: debug })
      expect(doc.timestamp).toBe(ts)
      expect(doc.moduleId).toBe(v.meta.module_id)
      expect(doc.debugMode).toBe(debug)
      expect(verifyAttestation(v.bytes, { root: rootPem, at: new Date(ts), allowDebug: debug }).verifiedAt).toBe(ts)
    })

    it('verifies at the edges of its validity window and is refused 1 s outside', () => {
      const wide = { allowDebug: true, maxFutureSkewMs: 24 * 3600_000 }
      expect(() => verifyAttestation(v.bytes, { root: rootPem, at: start * 1000, ...wide })).not.toThrow()
      expect(() => verifyAttestation(v.bytes, { root: rootPem, at: end * 1000, ...wide })).not.toThrow()
      expect(refusal(v.bytes, { at: (start - 1) * 1000, ...wide }).code).toBe('attestation_cert_expired')
      expect(refusal(v.bytes, { at: (end + 1) * 1000, ...wide }).code).toBe('attestation_cert_expired')
    })

    it('is refused at the real current time (its leaf expired long ago)', () => {
      expect(refusal(v.bytes, { maxAgeMs: 300_000, allowDebug: true }).code).toBe('attestation_cert_expired')
    })

    it.runIf(debug)('is refused as debug mode unless allowDebug', () => {
      expect(refusal(v.bytes, { at: 'document' }).code).toBe('attestation_debug_mode')
    })

    it.runIf(typeof v.meta.repo_test_time_s === 'number')('verifies at the time its source repo tested it', () => {
      const at = (v.meta.repo_test_time_s as number) * 1000
      expect(verifyAttestation(v.bytes, { root: rootPem, at, allowDebug: debug }).timestamp).toBe(ts)
    })
  })

  describe.each(invalid.map((v) => [v.name, v] as const))('%s (refused)', (_name, v) => {
    it(`is refused at its own timestamp with the rule its .json names`, () => {
      const at = v.meta.timestamp_ms!
      expect(refusal(v.bytes, { at, allowDebug: true }).code).toBe(expectedCode(v))
    })
  })

  it('refuses the zero-length public_key document under strict rules, though its chain and signature are fine', () => {
    const v = named('hf_nitrite')
    const err = refusal(v.bytes, { at: 'document', allowDebug: true })
    expect(err.code).toBe('attestation_field_invalid')
    expect(err.details).toMatch(/public_key/)
  })

  it('refuses the KMS CMS sample cleanly: it is not an attestation document', () => {
    const v = vectors.find((x) => x.meta.kind !== undefined)!
    expect(v.name).toBe('kms_cms_envelopeddata_constructed')
    expect(refusal(v.bytes, { at: Date.now() }).code).toBe('attestation_malformed')
    expect(() => unsafeParseAttestationDoc(v.bytes)).toThrow(AttestationError)
  })
})

suite('Nitro vectors: caller expectations and strict decoding', () => {
  const base = () => named('base_nitro_validator_20241130')
  const eternis = () => named('eternis_test')
  const everDebug = () => named('evervault_beta_debug_2022')

  it('requires a root and an explicit time', () => {
    const bytes = base().bytes
    expect(() => verifyAttestation(bytes, { at: 'document' } as VerifyAttestationOptions)).toThrow(/pinned root/)
    expect(refusal(bytes, {}).code).toBe('attestation_options_invalid')
  })

  it('refuses a chain that does not lead to the pinned root', () => {
    const otherCa = unsafeParseAttestationDoc(named('evervault_beta_2022').bytes).document.cabundle[1]!
    const pem = `-----BEGIN CERTIFICATE-----\n${Buffer.from(otherCa).toString('base64')}\n-----END CERTIFICATE-----`
    expect(refusal(base().bytes, { at: 'document', root: pem }).code).toBe('attestation_root_mismatch')
  })

  it('checks live freshness: max age and future skew', () => {
    const { bytes, meta } = base()
    const ts = meta.timestamp_ms!
    expect(verifyAttestation(bytes, { root: rootPem, maxAgeMs: 300_000, now: () => ts + 60_000 }).timestamp).toBe(ts)
    expect(refusal(bytes, { maxAgeMs: 300_000, now: () => ts + 600_000 }).code).toBe('attestation_too_old')
    expect(refusal(bytes, { maxAgeMs: 300_000, maxFutureSkewMs: 1000, now: () => ts - 2000 }).code).toBe('attestation_from_future')
  })

  it('compares PCRs exactly; zero is not a wildcard', () => {
    const { bytes, meta } = base()
    const pcr0 = (meta.payload as { pcr0: string }).pcr0
    expect(() => verifyAttestation(bytes, { root: rootPem, at: 'document', expectedPcrs: { 0: pcr0 } })).not.toThrow()
    const err = refusal(bytes, { at: 'document', expectedPcrs: { 0: `00${pcr0.slice(2)}` } })
    expect([err.code, err.actual]).toEqual(['attestation_pcr_mismatch', pcr0])
    const zero = '00'.repeat(48)
    expect(refusal(eternis().bytes, { at: 'document', allowDebug: true, expectedPcrs: { 3: zero } }).code).toBe(
      'attestation_pcr_mismatch',
    )
  })

  it('checks nonce, user_data and public_key, with expected/actual in hex', () => {
    const nonce = `${'00'.repeat(19)}01`
    expect(verifyAttestation(eternis().bytes, { root: rootPem, at: 'document', allowDebug: true, expectedNonce: nonce }).nonce).toEqual(
      new Uint8Array(Buffer.from(nonce, 'hex')),
    )
    const bad = refusal(eternis().bytes, { at: 'document', allowDebug: true, expectedNonce: `${'00'.repeat(19)}02` })
    expect([bad.code, bad.actual]).toEqual(['attestation_nonce_mismatch', nonce])
    const ok = { root: rootPem, at: 'document' as const, allowDebug: true }
    const userData = new TextEncoder().encode('hello, world!')
    const publicKey = new TextEncoder().encode('my super secret key')
    expect(() => verifyAttestation(everDebug().bytes, { ...ok, expectedUserData: userData, expectedPublicKey: publicKey })).not.toThrow()
    expect(refusal(everDebug().bytes, { ...ok, expectedUserData: 'aa' }).code).toBe('attestation_user_data_mismatch')
    expect(refusal(everDebug().bytes, { ...ok, expectedPublicKey: 'aa' }).code).toBe('attestation_public_key_mismatch')
    const nullKey = named('evervault_beta_2022').bytes
    const err = refusal(nullKey, { at: 'document', expectedPublicKey: 'aa' })
    expect([err.code, err.actual]).toEqual(['attestation_public_key_mismatch', 'null'])
  })

  it('accepts null optionals and the COSE tag 18 form; refuses trailing bytes and double tags', () => {
    const doc = verifyAttestation(named('evervault_beta_2022').bytes, { root: rootPem, at: 'document' })
    expect([doc.publicKey, doc.userData]).toEqual([null, null])
    const bytes = base().bytes
    const tagged = new Uint8Array([0xd2, ...bytes])
    expect(unsafeParseAttestationDoc(tagged).tagged).toBe(true)
    expect(() => verifyAttestation(tagged, { root: rootPem, at: 'document' })).not.toThrow()
    expect(refusal(new Uint8Array([...bytes, 0x00]), { at: 'document' }).code).toBe('attestation_malformed')
    expect(refusal(new Uint8Array([0xd2, 0xd2, ...bytes]), { at: 'document' }).code).toBe('attestation_malformed')
    expect(refusal(new Uint8Array([0xd8, 0x11, ...bytes]), { at: 'document' }).code).toBe('attestation_malformed')
  })

  it('caches chain links by exact bytes but re-checks validity windows at every call', () => {
    const { bytes, meta } = base()
    const cache = new CertCache()
    verifyAttestation(bytes, { root: rootPem, at: 'document', cache })
    const size = cache.size
    expect(size).toBe(5 + 4) // 5 parsed certificates, 4 verified links
    verifyAttestation(bytes, { root: rootPem, at: 'document', cache })
    expect(cache.size).toBe(size)
    const [, end] = meta.valid_window_s!
    expect(refusal(bytes, { at: (end + 1) * 1000, cache }).code).toBe('attestation_cert_expired')
    const small = new CertCache(2)
    verifyAttestation(bytes, { root: rootPem, at: 'document', cache: small })
    expect(small.size).toBeLessThanOrEqual(4)
  })
})
