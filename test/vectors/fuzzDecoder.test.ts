import { encode } from 'cborg'
import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import { AttestationError } from '../../shared/attestation/AttestationError.js'
import { unsafeParseAttestationDoc } from '../../shared/attestation/unsafeParseAttestationDoc.js'
import { verifyAttestation } from '../../shared/attestation/verifyAttestation.js'
import { createTestMockNsm } from './createTestMockNsm.js'
import { loadNitroVectors } from './loadNitroVectors.js'

/** Parsing must either succeed or throw an AttestationError: never another exception, never a hang. */
function parseOrTypedError(bytes: Uint8Array): void {
  try {
    unsafeParseAttestationDoc(bytes)
  } catch (err) {
    if (!(err instanceof AttestationError)) throw err
  }
}

let valid: Uint8Array
let root: string
beforeAll(async () => {
  const t = createTestMockNsm()
  valid = await t.nsm.attest({ nonce: new Uint8Array(32).fill(9), publicKey: new Uint8Array(44).fill(3) })
  root = t.rootPem()
})

describe('attestation decoder fuzzing', () => {
  it('random bytes → typed error', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 4096 }), parseOrTypedError), { numRuns: 2000, seed: 1 })
  })

  it('random bytes behind a COSE_Sign1 array header → typed error', () => {
    const arb = fc.uint8Array({ maxLength: 2048 }).map((b) => new Uint8Array([0x84, ...b]))
    fc.assert(fc.property(arb, parseOrTypedError), { numRuns: 2000, seed: 2 })
  })

  it('arbitrary CBOR values, alone and as payloads → typed error', () => {
    fc.assert(
      fc.property(fc.anything({ withMap: true, withNullPrototype: false, withBigInt: false }), (value) => {
        let body: Uint8Array
        try {
          body = encode(value)
        } catch {
          return // not encodable by cborg (undefined, NaN…): nothing to test
        }
        parseOrTypedError(body)
        parseOrTypedError(encode([encode(new Map([[1, -35]])), new Map(), body, new Uint8Array(96)]))
      }),
      { numRuns: 1000, seed: 3 },
    )
  })

  it('every truncation of a valid document → attestation_malformed', () => {
    for (let len = 0; len < valid.length; len++) {
      expect(() => unsafeParseAttestationDoc(valid.subarray(0, len))).toThrow(AttestationError)
    }
  })

  it('truncations of real documents → typed error', () => {
    for (const v of loadNitroVectors()?.vectors ?? []) {
      for (let len = 0; len < v.bytes.length; len += 7) parseOrTypedError(v.bytes.subarray(0, len))
    }
  })

  it('hostile shapes: deep nesting, huge declared lengths, oversize input → attestation_malformed', () => {
    const cases = [
      new Uint8Array(17_000).fill(0x81),
      new Uint8Array([0x84, 0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
      new Uint8Array([0x9b, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00]),
      new Uint8Array([0xbf, 0x61, 0x61]),
      new Uint8Array(17_409),
      new Uint8Array(0),
    ]
    for (const bytes of cases) {
      try {
        unsafeParseAttestationDoc(bytes)
        throw new TypeError('parsed a hostile input')
      } catch (err) {
        expect((err as AttestationError).code).toBe('attestation_malformed')
      }
    }
  })

  it('the full verifier stays typed on random mutations of many bytes', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 1, max: 255 })), { minLength: 2, maxLength: 20 }), (flips) => {
        const bytes = valid.slice()
        for (const [pos, xor] of flips) bytes[pos] = bytes[pos]! ^ xor
        try {
          verifyAttestation(bytes, { root, at: 'document' })
        } catch (err) {
          if (!(err instanceof AttestationError)) throw err
          return
        }
        // Two flips that cancel out leave the original, which must verify.
        expect(bytes).toEqual(valid)
      }),
      { numRuns: 500, seed: 4 },
    )
  })
})
