import { keccak_256 } from '@noble/hashes/sha3.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { KECCAK_ENGINE, keccak256Bytes } from './keccak256Bytes.js'

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')

describe('keccak256Bytes (hash-wasm) is @noble/hashes keccak_256 byte for byte (cpu37)', () => {
  it('loads the WebAssembly engine here (the fallback would make every check below compare noble with itself)', () => {
    expect(KECCAK_ENGINE).toBe('hash-wasm')
  })

  it('gives the published Keccak-256 vectors (not SHA3-256: the padding differs)', () => {
    expect(hex(keccak256Bytes(new Uint8Array()))).toBe('c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470')
    expect(hex(keccak256Bytes(Buffer.from('abc')))).toBe('4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45')
    expect(hex(keccak256Bytes(Buffer.from('testing')))).toBe('5f16f4c7f149ac4f9510d9cf8cf384038ad348b3bcdc01915f95de12df9d1b02')
  })

  it('equals noble at every length across three rate blocks (136 bytes each), both engines', () => {
    for (let n = 0; n <= 3 * 136 + 2; n++) {
      const data = Uint8Array.from({ length: n }, (_, i) => (i * 131 + n) & 0xff)
      const want = hex(keccak_256(data))
      expect(hex(keccak256Bytes(data)), `length ${n}`).toBe(want)
      expect(hex(keccak256Bytes(data, 'noble')), `length ${n}`).toBe(want)
    }
  })

  it('equals noble on random inputs, hashed back to back (no state carried from one hash to the next)', () => {
    fc.assert(fc.property(fc.array(fc.uint8Array({ maxLength: 700 }), { minLength: 1, maxLength: 4 }), (inputs) => {
      for (const data of inputs) expect(hex(keccak256Bytes(data))).toBe(hex(keccak_256(data)))
    }), { numRuns: 1_000 })
  })

  it('hashes a view into a larger buffer by its own bytes only, and returns a fresh array each time', () => {
    const big = Uint8Array.from({ length: 400 }, (_, i) => i & 0xff)
    const view = big.subarray(37, 37 + 224)
    expect(hex(keccak256Bytes(view))).toBe(hex(keccak_256(view)))
    const a = keccak256Bytes(view)
    const b = keccak256Bytes(new Uint8Array(66))
    expect(hex(a)).toBe(hex(keccak_256(view)))
    expect(a).not.toBe(b)
  })
})
