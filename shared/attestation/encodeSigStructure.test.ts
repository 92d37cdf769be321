import { encode } from 'cborg'
import { describe, expect, it } from 'vitest'
import { encodeSigStructure } from './encodeSigStructure.js'

describe('encodeSigStructure', () => {
  it('writes the bytes cborg writes for ["Signature1", protected, h\'\', payload] at every length-head boundary', () => {
    const lengths = [0, 1, 23, 24, 255, 256, 4420, 65535, 65536, 70_000]
    for (const p of [0, 4, 23, 24, 300]) {
      for (const n of lengths) {
        const protectedBytes = new Uint8Array(p).map((_, i) => (i * 7 + 1) & 0xff)
        const payload = new Uint8Array(n).map((_, i) => (i * 13 + n) & 0xff)
        expect(Buffer.from(encodeSigStructure(protectedBytes, payload)).equals(encode(['Signature1', protectedBytes, new Uint8Array(0), payload]))).toBe(true)
      }
    }
  })
})
