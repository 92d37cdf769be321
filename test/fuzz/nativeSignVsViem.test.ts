import fc from 'fast-check'
import { type Hex, bytesToHex, hexToBytes, keccak256 } from 'viem'
import { sign } from 'viem/accounts'
import { describe, expect, it } from 'vitest'
import { SIGN_ENGINE, type SignEngine, signDigest } from '../../enclave/sign/secp256k1Engine.js'
import { signPlan } from '../../enclave/sign/signPlan.js'

const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n
const MAX = 2n ** 256n - 1n
const hex32 = (x: bigint) => `0x${x.toString(16).padStart(64, '0')}` as Hex
/** Keys crowded at both ends of [1, n-1], and uniform. */
const key = fc.oneof(fc.bigInt({ min: 1n, max: 1000n }), fc.bigInt({ min: N - 1000n, max: N - 1n }), fc.bigInt({ min: 1n, max: N - 1n })).map(hex32)
/** Digests around 0, n and 2^256, the whole band at or above n, and uniform. */
const digest = fc
  .oneof(fc.bigInt({ min: 0n, max: 64n }), fc.bigInt({ min: N - 64n, max: N + 64n }), fc.bigInt({ min: N, max: MAX }), fc.bigInt({ min: MAX - 64n, max: MAX }), fc.bigInt({ min: 0n, max: MAX }))
  .map(hex32)
/** The same bytes as a view at an offset inside a larger buffer (a binding that ignored byteOffset would sign other bytes). */
const view = (h: Hex, offset: number) => {
  const buf = new Uint8Array(offset + 32 + 7).fill(0xa5)
  buf.set(hexToBytes(h), offset)
  return buf.subarray(offset, offset + 32)
}

/**
 * Hostile inputs at the native signer: edge keys and digests (≥ n, around 0
 * and 2^256), byte views at odd offsets, wrong lengths and types. Every
 * signature equals viem's, byte for byte; every bad input is a thrown error
 * (never an abort of the process, never a signature).
 */
describe('fuzz: libsecp256k1 (and the noble fallback) against viem on edge keys, digests and buffer views', () => {
  it('this checkout signs natively', () => expect(SIGN_ENGINE).toBe('libsecp256k1'))

  it.each<SignEngine>(['libsecp256k1', 'noble'])('%s: signatures equal viem’s', async (engine) => {
    await fc.assert(
      fc.asyncProperty(key, digest, fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 40 }), async (privateKey, hash, ko, dof) => {
        const raw = signDigest(view(hash, dof), view(privateKey, ko), engine)
        const viem = await sign({ hash, privateKey })
        expect(bytesToHex(raw.rs)).toBe(`${viem.r}${viem.s.slice(2)}`)
        expect(raw.yParity).toBe(viem.yParity)
      }),
      { numRuns: 400 },
    )
  })

  // At the engine, only the native binding is held to 32-byte digests (noble signs any length: bits2int); signPlan,
  // the only caller, refuses a digest that is not 32 bytes before either engine sees it.
  it.each<SignEngine>(['libsecp256k1', 'noble'])('%s: wrong lengths, types and out-of-range keys throw, nothing signs', (engine) => {
    const good = hexToBytes(hex32(12345n))
    const d = hexToBytes(keccak256('0x'))
    const bad: Array<[unknown, unknown]> = [
      [new Uint8Array(31), good], [new Uint8Array(33), good], [new Uint8Array(0), good], [d, new Uint8Array(31)], [d, new Uint8Array(33)],
      [d, new Uint8Array(32)], [d, hexToBytes(hex32(N))], [d, hexToBytes(hex32(MAX))], [d, 'key'], [null, good], [d, null], [[...d], good],
    ]
    for (const [digestIn, keyIn] of bad) {
      if (engine === 'noble' && digestIn instanceof Uint8Array && digestIn.length !== 32) continue
      expect(() => signDigest(digestIn as Uint8Array, keyIn as Uint8Array, engine)).toThrow()
    }
    for (const h of ['0x', '0x12', `0x${'00'.repeat(33)}`]) {
      expect(() => signPlan({ privateKey: good, plan: { kind: 'message', digest: h as Hex }, engine })).toThrow(/32 bytes/)
    }
    for (const k of [new Uint8Array(32), hexToBytes(hex32(N)), new Uint8Array(31)]) {
      expect(() => signPlan({ privateKey: k, plan: { kind: 'message', digest: keccak256('0x') }, engine })).toThrow(/scalar|32 bytes/)
    }
  })
})
