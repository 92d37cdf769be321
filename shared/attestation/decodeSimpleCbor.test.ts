import { encode } from 'cborg'
import { beforeAll, describe, expect, it } from 'vitest'
import { createTestMockNsm } from '../../test/vectors/createTestMockNsm.js'
import { loadNitroVectors } from '../../test/vectors/loadNitroVectors.js'
import { decodeSimpleCbor, NOT_SIMPLE } from './decodeSimpleCbor.js'
import { decodeStrictCborWithCborg } from './decodeStrictCbor.js'
import { unsafeParseAttestationDoc } from './unsafeParseAttestationDoc.js'

/** cborg's strict verdict: the decoded value, or 'refused'. */
function reference(bytes: Uint8Array, allowTag18: boolean): unknown {
  try {
    return decodeStrictCborWithCborg(bytes, 'test', allowTag18)
  } catch {
    return 'refused'
  }
}

/** The fast path either declines or gives exactly cborg's value (same types: Uint8Array copies, numbers, Maps). */
function expectAgrees(bytes: Uint8Array, allowTag18: boolean): boolean {
  const simple = decodeSimpleCbor(bytes, allowTag18)
  if (simple === NOT_SIMPLE) return false
  const want = reference(bytes, allowTag18)
  if (!same(simple, want)) expect(simple).toStrictEqual(want) // prints the difference
  return true
}

/** Deep equality with exact types (vitest's toStrictEqual is too slow for thousands of 4 KiB documents). */
function same(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object' || a.constructor !== b.constructor) return false
  if (a instanceof Uint8Array) return Buffer.compare(a, b as Uint8Array) === 0
  if (a instanceof Map) {
    const m = b as Map<unknown, unknown>
    return a.size === m.size && [...a].every(([k, v], i) => Object.is(k, [...m.keys()][i]) && same(v, m.get(k)))
  }
  if (Array.isArray(a)) return a.length === (b as unknown[]).length && a.every((v, i) => same(v, (b as unknown[])[i]))
  const ka = Object.keys(a)
  return ka.length === Object.keys(b).length && ka.every((k) => same((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
}

const seeds: Array<{ name: string; bytes: Uint8Array; tag18: boolean }> = []

beforeAll(async () => {
  const t = createTestMockNsm()
  const add = (name: string, doc: Uint8Array) => {
    seeds.push({ name, bytes: doc, tag18: true })
    try {
      const p = unsafeParseAttestationDoc(doc)
      seeds.push({ name: `${name} protected`, bytes: p.protectedBytes, tag18: false }, { name: `${name} payload`, bytes: p.payloadBytes, tag18: false })
    } catch {
      // a refused vector still seeds the outer mutations
    }
  }
  add('mock', await t.nsm.attest({ nonce: new Uint8Array(16).fill(1), publicKey: new Uint8Array(10).fill(2), userData: new Uint8Array(40).fill(3) }))
  add('mock, no optional fields', await t.nsm.attest({}))
  for (const v of loadNitroVectors()?.vectors ?? []) if (v.meta.kind === undefined) add(v.name, v.bytes)
})

describe('decodeSimpleCbor (fast path of decodeStrictCbor) against cborg', () => {
  it('takes the fast path for every well-formed NSM document and payload, with cborg\'s exact value', () => {
    const taken = seeds.filter((s) => reference(s.bytes, s.tag18) !== 'refused').map((s) => [s.name, expectAgrees(s.bytes, s.tag18)])
    expect(taken.length).toBeGreaterThanOrEqual(6)
    expect(taken.filter(([, fast]) => !fast)).toEqual([])
  })

  it('never accepts what cborg refuses, nor decodes differently, on 200 random mutations of each seed', () => {
    let state = 0x2545f491
    const rand = (n: number) => {
      state ^= state << 13
      state ^= state >>> 17
      state ^= state << 5
      return (state >>> 0) % n
    }
    let fast = 0
    let total = 0
    for (const seed of seeds) {
      for (let k = 0; k < 200; k++) {
        const b = Array.from(seed.bytes)
        const at = rand(b.length)
        const op = rand(4)
        if (op === 0) b[at] = rand(256)
        else if (op === 1) b[at] = b[at]! ^ (1 << rand(8))
        else if (op === 2) b.splice(at, 1)
        else b.splice(at, 0, rand(256))
        total++
        if (expectAgrees(new Uint8Array(b), seed.tag18)) fast++
      }
    }
    expect(total).toBeGreaterThan(1000)
    expect(fast).toBeGreaterThan(0)
  })

  it('declines every edge it does not decide, and agrees on those it does', () => {
    const bom = new Uint8Array([0x63, 0xef, 0xbb, 0xbf])
    const declined: Array<[string, Uint8Array, boolean]> = [
      ['leading BOM in text', bom, false],
      ['invalid UTF-8', new Uint8Array([0x62, 0xc3, 0x28]), false],
      ['non-shortest uint (1 in 1 byte)', new Uint8Array([0x18, 0x01]), false],
      ['non-shortest length (bstr 2 in 2 bytes)', new Uint8Array([0x59, 0x00, 0x02, 1, 2]), false],
      ['uint 2^53', encode(2n ** 53n), false],
      ['negint -2^53 - 1', encode(-(2n ** 53n) - 1n), false],
      ['negint -2^53', new Uint8Array([0x3b, 0x00, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), false],
      ['float', encode(1.5), false],
      ['undefined', new Uint8Array([0xf7]), false],
      ['indefinite array', new Uint8Array([0x9f, 0x01, 0xff]), false],
      ['indefinite bytes', new Uint8Array([0x5f, 0x41, 0x00, 0xff]), false],
      ['duplicate text key', new Uint8Array([0xa2, 0x61, 0x61, 0x01, 0x61, 0x61, 0x02]), false],
      ['duplicate int key', new Uint8Array([0xa2, 0x01, 0x01, 0x01, 0x02]), false],
      ['byte-string key', new Uint8Array([0xa1, 0x41, 0x00, 0x01]), false],
      ['tag 18 not allowed', new Uint8Array([0xd2, 0x80]), false],
      ['nested tag 18', new Uint8Array([0x81, 0xd2, 0x80]), true],
      ['other tag', new Uint8Array([0xc1, 0x01]), true],
      ['trailing byte', new Uint8Array([0x01, 0x00]), false],
      ['truncated', new Uint8Array([0x82, 0x01]), false],
      ['array longer than input', new Uint8Array([0x9a, 0xff, 0xff, 0xff, 0xff]), false],
      ['deep nesting', new Uint8Array([...new Array(20).fill(0x81), 0x01]), false],
      ['empty', new Uint8Array(0), false],
    ]
    for (const [name, bytes, tag18] of declined) expect([name, decodeSimpleCbor(bytes, tag18)]).toEqual([name, NOT_SIMPLE])
    const decided: Array<[Uint8Array, boolean]> = [
      [encode(2 ** 53 - 1), false],
      [encode(-(2 ** 53) + 1), false],
      [encode(new Map<unknown, unknown>([[1, -35], ['a', null], [-2, [true, false, new Uint8Array([9])]]])), false],
      [encode('\u00e9t\u00e9 \u{1f600}'), false],
      [new Uint8Array([0xd2, 0x84, 0x41, 0xa0, 0xa0, 0x40, 0x40]), true],
    ]
    for (const [bytes, tag18] of decided) expect(expectAgrees(bytes, tag18)).toBe(true)
  })

  it('returns byte strings as private Uint8Array copies, never views of the input (cborg gives Buffer views of a Buffer)', () => {
    const plain = encode([new Uint8Array([1, 2, 3])])
    const input = Buffer.from(plain)
    const [out] = decodeSimpleCbor(input, false) as [Uint8Array]
    expect([out]).toStrictEqual(reference(plain, false))
    input[2] = 0xff
    expect(out).toStrictEqual(new Uint8Array([1, 2, 3]))
  })
})
