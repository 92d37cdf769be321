import { decode, encode } from 'cborg'
import { beforeAll, describe, expect, it } from 'vitest'
import { AttestationError } from '../../shared/attestation/AttestationError.js'
import { unsafeParseAttestationDoc } from '../../shared/attestation/unsafeParseAttestationDoc.js'
import { verifyAttestation } from '../../shared/attestation/verifyAttestation.js'
import { createTestMockNsm } from './createTestMockNsm.js'

let doc: Uint8Array
let root: string
type Cose = [Uint8Array, Map<unknown, unknown>, Uint8Array, Uint8Array]
const keep = { mapSorter: () => 0 }

beforeAll(async () => {
  const t = createTestMockNsm()
  doc = await t.nsm.attest({ nonce: new Uint8Array(16).fill(1), publicKey: new Uint8Array(10).fill(2) })
  root = t.rootPem()
})

const cose = (): Cose => decode(doc, { useMaps: true }) as Cose
const payload = (): Map<string, unknown> => decode(cose()[2], { useMaps: true }) as Map<string, unknown>
const withPayload = (p: Map<unknown, unknown> | Uint8Array): Uint8Array => {
  const c = cose()
  return encode([c[0], c[1], p instanceof Uint8Array ? p : encode(p, keep), c[3]], keep)
}
const codeOf = (bytes: Uint8Array): string => {
  try {
    unsafeParseAttestationDoc(bytes)
  } catch (err) {
    expect(err).toBeInstanceOf(AttestationError)
    return (err as AttestationError).code
  }
  return 'parsed'
}
const edit = (key: string, value: unknown) => withPayload(new Map(payload()).set(key, value))

describe('strict decoding rules (attestation_process.md)', () => {
  it('round-trips the untouched document', () => {
    expect(codeOf(withPayload(payload()))).toBe('parsed')
    expect(() => verifyAttestation(doc, { root, at: 'document' })).not.toThrow()
  })

  it('refuses a duplicate payload key (hand-encoded map)', () => {
    const p = cose()[2]
    // Re-open the payload map header with one more entry and append a second "nonce".
    const extra = encode('nonce')
    const dup = new Uint8Array([0xaa, ...p.subarray(1), ...extra, 0xf6])
    expect(p[0]).toBe(0xa9)
    expect(codeOf(withPayload(dup))).toBe('attestation_malformed')
  })

  it('refuses unknown keys and wrong field types or sizes', () => {
    const cases: [string, unknown][] = [
      ['extra', 1],
      ['module_id', ''],
      ['digest', 'SHA256'],
      ['timestamp', 0],
      ['timestamp', -5],
      ['timestamp', 1.5],
      ['pcrs', new Map()],
      ['pcrs', new Map([[32, new Uint8Array(48)]])],
      ['pcrs', new Map([[0, new Uint8Array(47)]])],
      ['certificate', new Uint8Array(0)],
      ['certificate', new Uint8Array(1025)],
      ['cabundle', []],
      ['cabundle', [new Uint8Array(1025)]],
      ['public_key', new Uint8Array(0)],
      ['user_data', new Uint8Array(1025)],
      ['nonce', 'text'],
    ]
    for (const [key, value] of cases) expect([key, codeOf(edit(key, value))]).toEqual([key, 'attestation_field_invalid'])
  })

  it('accepts absent or null optionals and 1024-byte user_data/nonce (decode only)', () => {
    const p = payload()
    p.delete('user_data')
    p.delete('public_key')
    expect(codeOf(withPayload(p))).toBe('parsed')
    expect(codeOf(edit('user_data', new Uint8Array(1024)))).toBe('parsed')
    expect(codeOf(edit('nonce', null))).toBe('parsed')
  })

  it('refuses COSE framing errors', () => {
    const [prot, , pay, sig] = cose()
    const enc = (items: unknown[]) => encode(items, keep)
    expect(codeOf(enc([prot, new Map(), pay]))).toBe('attestation_malformed')
    expect(codeOf(enc([prot, new Map(), pay, sig, sig]))).toBe('attestation_malformed')
    expect(codeOf(enc([encode(new Map([[1, -7]])), new Map(), pay, sig]))).toBe('attestation_field_invalid')
    expect(codeOf(enc([encode(new Map([[1, -35], [4, 1]])), new Map(), pay, sig]))).toBe('attestation_field_invalid')
    expect(codeOf(enc([prot, new Map([[4, new Uint8Array(1)]]), pay, sig]))).toBe('attestation_field_invalid')
    expect(codeOf(enc([prot, new Map(), pay, sig.subarray(0, 95)]))).toBe('attestation_field_invalid')
    expect(codeOf(enc([prot, new Map(), new Uint8Array(16 * 1024 + 1), sig]))).toBe('attestation_field_invalid')
    expect(codeOf(enc([new Map([[1, -35]]), new Map(), pay, sig]))).toBe('attestation_malformed')
  })

  it('uses the original protected bytes: an equivalent non-minimal encoding breaks the signature', () => {
    const [, , pay, sig] = cose()
    const nonMinimal = new Uint8Array([0xa1, 0x01, 0x39, 0x00, 0x22]) // {1: -35} with a 2-byte integer
    const bytes = encode([nonMinimal, new Map(), pay, sig], keep)
    expect(codeOf(bytes)).toBe('parsed')
    expect(() => verifyAttestation(bytes, { root, at: 'document' })).toThrow(expect.objectContaining({ code: 'attestation_signature_invalid' }))
  })

  it('refuses invalid UTF-8 in text', () => {
    const p = cose()[2]
    const at = Buffer.from(p).indexOf(Buffer.from('SHA384'))
    const bad = p.slice()
    bad[at] = 0xff
    expect(codeOf(withPayload(bad))).toBe('attestation_malformed')
  })
})
