import { Token, Type, encode } from 'cborg'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { cborHead, head } from './encodeWithRaw.js'

/**
 * tidy41: the CBOR head writer is written once (here), used by the sealed state's parts (encodeWithRaw, RecentIds) and
 * by every frame (shared/protocol/encodeCborFrame.ts). Before, each had its own; both are kept below as references, and
 * cborg itself (a head token) is the third: on any major type and any argument below 2^53 all four write the same bytes.
 */

/** The sealed state's writer before tidy41 (core/state/encodeWithRaw.ts at 34b5511). */
function sealedBefore(out: Uint8Array, off: number, major: number, n: number): number {
  const size = n < 24 ? 0 : n < 256 ? 1 : n < 65536 ? 2 : n < 2 ** 32 ? 4 : 8
  out[off] = major | (size ? 24 + Math.log2(size) : n)
  for (let i = size, v = n; i > 0; i--, v = Math.floor(v / 256)) out[off + i] = v % 256
  return off + 1 + size
}

/** The frame writer's before tidy41 (shared/protocol/encodeCborFrame.ts at 34b5511, its shared buffer as a parameter). */
function frameBefore(out: Uint8Array, pos: number, major: number, n: number): number {
  const extra = n < 24 ? 0 : n < 0x100 ? 1 : n < 0x10000 ? 2 : n < 0x100000000 ? 4 : 8
  out[pos++] = major | (extra === 0 ? n : extra === 1 ? 24 : extra === 2 ? 25 : extra === 4 ? 26 : 27)
  for (let i = extra - 1, hi = extra === 8 ? Math.floor(n / 2 ** 32) : 0; i >= 0; i--) out[pos++] = ((i < 4 ? n : hi) >>> (8 * (i & 3))) & 0xff
  return pos
}

/** cborg's head for `n` under `major`: an array token's head (one argument writer for every major type) re-typed. */
function cborgHead(major: number, n: number): string {
  const b = encode({}, { typeEncoders: { Object: () => [new Token(Type.array, n)] } })
  b[0] = major | (b[0]! & 0x1f)
  return Buffer.from(b).toString('hex')
}

/** The bytes a writer leaves at offset `off` of a buffer filled with 0xee (so a stray write outside the head shows). */
function written(write: typeof head, out: Uint8Array, off: number, major: number, n: number): string {
  out.fill(0xee)
  const end = write(out, off, major, n)
  expect(out.subarray(0, off).every((b) => b === 0xee) && out.subarray(end).every((b) => b === 0xee)).toBe(true)
  return Buffer.from(out.subarray(off, end)).toString('hex')
}

const edges = [0, 1, 23, 24, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1, 2 ** 40, 2 ** 52, Number.MAX_SAFE_INTEGER]
const argument = fc.oneof(fc.nat(23), fc.integer({ min: 24, max: 0xffff }), fc.nat(), fc.integer({ min: 2 ** 32 - 2, max: 2 ** 32 + 2 }), fc.maxSafeNat(), fc.constantFrom(...edges))
const major = fc.constantFrom(0x00, 0x20, 0x40, 0x60, 0x80, 0xa0, 0xc0)

describe('the one CBOR head writer', () => {
  it('writes what both former writers and cborg write, at any offset of a Uint8Array or a Buffer', () => {
    const plain = new Uint8Array(32)
    const buffer = Buffer.alloc(32) // frames write into a Buffer
    fc.assert(
      fc.property(major, argument, fc.nat(20), (m, n, off) => {
        const want = cborgHead(m, n)
        expect(written(head, plain, off, m, n)).toBe(want)
        expect(written(head, buffer, off, m, n)).toBe(want)
        expect(written(sealedBefore, plain, off, m, n)).toBe(want)
        expect(written(frameBefore, buffer, off, m, n)).toBe(want)
        expect(Buffer.from(cborHead(m, n)).toString('hex')).toBe(want)
      }),
      { numRuns: 5000 },
    )
  })

  it('agrees with cborg on integers and lengths it encodes itself', () => {
    for (const n of edges) {
      expect(Buffer.from(cborHead(0x00, n)).equals(Buffer.from(encode(n)))).toBe(true)
      if (Number.isSafeInteger(-1 - n)) expect(Buffer.from(cborHead(0x20, n)).equals(Buffer.from(encode(-1 - n)))).toBe(true) // else cborg writes a float
    }
    for (const n of [0, 23, 24, 255, 256, 65535, 65536]) {
      expect(Buffer.from(encode(new Uint8Array(n))).subarray(0, cborHead(0x40, n).length).equals(cborHead(0x40, n))).toBe(true)
      expect(Buffer.from(encode('a'.repeat(n))).subarray(0, cborHead(0x60, n).length).equals(cborHead(0x60, n))).toBe(true)
    }
  })
})
