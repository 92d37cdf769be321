import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto'
import { decode, encode } from 'cborg'
import { beforeAll, describe, expect, it } from 'vitest'
import { AttestationError } from '../../shared/attestation/AttestationError.js'
import { CertCache } from '../../shared/attestation/CertCache.js'
import { encodeSigStructure } from '../../shared/attestation/encodeSigStructure.js'
import { pinnedRootDer } from '../../shared/attestation/pinnedRootDer.js'
import { unsafeParseAttestationDoc } from '../../shared/attestation/unsafeParseAttestationDoc.js'
import { type VerifyAttestationOptions, verifyAttestation } from '../../shared/attestation/verifyAttestation.js'
import { createTestMockNsm } from '../vectors/createTestMockNsm.js'

/**
 * Attack: once a genuine chain sits in the verifier's cache (the CLI, owner client and SDK share one process-wide
 * cache), the attacker presents a document whose chain only LOOKS like the cached one: a leaf with the genuine leaf's
 * length and tail (same cache slot) but the attacker's public key, with the document signed by the attacker's key;
 * or the genuine chain at a time it is expired; or the genuine chain under a different pinned root; or an
 * intermediate from another PKI. A cache hit must need every byte equal, and validity and the pinned root are
 * checked on every call: each is refused with the same code a cold cache gives.
 */
describe('adversarial: a cached chain vouches only for its exact bytes, at a time they are valid, under the same root', () => {
  let doc: Uint8Array
  let rootPem: string
  let otherRootPem: string
  let otherIntermediate: Uint8Array
  let timestamp: number
  let cache: CertCache
  const keep = { mapSorter: () => 0 }

  beforeAll(async () => {
    const a = createTestMockNsm()
    const b = createTestMockNsm()
    doc = await a.nsm.attest({ nonce: new Uint8Array(32).fill(9) })
    otherIntermediate = unsafeParseAttestationDoc(await b.nsm.attest({})).document.cabundle[1]!
    rootPem = a.rootPem()
    otherRootPem = b.rootPem()
    timestamp = unsafeParseAttestationDoc(doc).document.timestamp
  })

  const warm = () => {
    cache = new CertCache()
    verifyAttestation(doc, { root: rootPem, at: 'document', cache })
  }

  const codeOf = (bytes: Uint8Array, options: Partial<VerifyAttestationOptions> = {}, c: CertCache = cache): string => {
    try {
      verifyAttestation(bytes, { root: rootPem, at: 'document', cache: c, ...options })
      return 'VERIFIED'
    } catch (err) {
      return err instanceof AttestationError ? err.code : `UNTYPED:${(err as Error).message}`
    }
  }

  /** The document with payload fields replaced, re-signed with `key` (or keeping the old, now wrong, signature). */
  const forge = (edits: Record<string, unknown>, key?: KeyObject): Uint8Array => {
    const [protectedBytes, , payloadBytes, signature] = decode(doc, { useMaps: true }) as [Uint8Array, unknown, Uint8Array, Uint8Array]
    const payload = decode(payloadBytes, { useMaps: true }) as Map<string, unknown>
    for (const [k, v] of Object.entries(edits)) payload.set(k, v)
    const newPayload = encode(payload, keep)
    const newSignature = key ? new Uint8Array(sign('sha384', encodeSigStructure(protectedBytes, newPayload), { key, dsaEncoding: 'ieee-p1363' })) : signature
    return encode([protectedBytes, new Map(), newPayload, newSignature], keep)
  }

  it('cachedChainAcceptsSwappedLeaf: a leaf with the cached leaf\'s length and tail but the attacker\'s key is refused as a broken chain', () => {
    warm()
    const genuine = unsafeParseAttestationDoc(doc).document.certificate
    const genuinePoint = cache.parse(genuine, 'leaf').publicKey.export({ format: 'der', type: 'spki' }).subarray(-97)
    const attacker = generateKeyPairSync('ec', { namedCurve: 'P-384' })
    const attackerPoint = attacker.publicKey.export({ format: 'der', type: 'spki' }).subarray(-97)
    const at = Buffer.from(genuine).indexOf(genuinePoint)
    expect(at).toBeGreaterThan(0)
    const swapped = new Uint8Array(genuine)
    swapped.set(attackerPoint, at)
    expect(swapped.subarray(-32)).toEqual(genuine.subarray(-32)) // same length and tail: the same cache slot
    const forged = forge({ certificate: swapped }, attacker.privateKey)
    // A hit on the slot alone would hand back the genuine parse (then the COSE check fails: signature_invalid) or,
    // worse, a verified link; only an exact-bytes miss re-checks the intermediate's signature over the swapped leaf.
    expect(codeOf(forged)).toBe('attestation_chain_invalid')
    expect(codeOf(forged, {}, new CertCache())).toBe('attestation_chain_invalid')
    expect(codeOf(doc)).toBe('VERIFIED')
  })

  it('the cache compares against its own copy: a caller that mutates the bytes it verified cannot turn a hit', () => {
    const c = new CertCache()
    const leaf = new Uint8Array(unsafeParseAttestationDoc(doc).document.certificate)
    const first = c.parse(leaf, 'leaf')
    const original = new Uint8Array(leaf)
    leaf[leaf.length - 200] = leaf.at(-200)! ^ 0xff // the caller edits its buffer after the parse
    expect(c.parse(original, 'leaf')).toBe(first)
    let edited: unknown
    try {
      edited = c.parse(leaf, 'leaf')
    } catch (err) {
      edited = err // the edit broke the DER: refused, which is not a hit either
    }
    expect(edited).not.toBe(first)
  })

  it('a cached chain is re-checked for expiry at every call (audit time and live clock)', () => {
    warm()
    expect(codeOf(doc, { at: timestamp + 4 * 3600_000 })).toBe('attestation_cert_expired')
    expect(codeOf(doc, { at: timestamp - 3600_000 })).toBe('attestation_cert_expired')
    expect(codeOf(doc, { at: undefined, maxAgeMs: 10 * 3600_000, now: () => timestamp + 4 * 3600_000 })).toBe('attestation_cert_expired')
    expect(codeOf(doc, { at: undefined, maxAgeMs: 60_000, now: () => timestamp + 1000 })).toBe('VERIFIED')
  })

  it('a cached chain does not verify under a different pinned root (PEM text, DER bytes), and the first root still works', () => {
    warm()
    expect(codeOf(doc, { root: otherRootPem })).toBe('attestation_root_mismatch')
    expect(codeOf(doc, { root: pinnedRootDer(otherRootPem) })).toBe('attestation_root_mismatch')
    expect(codeOf(doc, { root: `${otherRootPem}\n` })).toBe('attestation_root_mismatch')
    expect(codeOf(doc)).toBe('VERIFIED')
    expect(codeOf(doc, { root: pinnedRootDer(rootPem) })).toBe('VERIFIED')
  })

  it('the cached leaf under another PKI\'s intermediate is refused', () => {
    warm()
    const { cabundle } = unsafeParseAttestationDoc(doc).document
    expect(codeOf(forge({ cabundle: [cabundle[0], otherIntermediate] }))).toBe('attestation_root_mismatch')
    expect(codeOf(forge({ cabundle: [cabundle[0], otherIntermediate] }), {}, new CertCache())).toBe('attestation_root_mismatch')
  })
})
