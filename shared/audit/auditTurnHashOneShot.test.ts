import { createHash, randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { auditTurnHash, auditTurnLeaf } from './auditTurnTree.js'

/**
 * rt34b: enc34 hashes turn-tree nodes with the one-shot `crypto.hash` where Node has it (the streaming createHash
 * otherwise). Both must give the same bytes as the definition SHA-256(tag byte ‖ parts), whatever the parts: empty,
 * one byte, views into a larger buffer (byteOffset ≠ 0), Buffers and plain Uint8Arrays, up to 64 KiB.
 */
const streaming = (tag: 0 | 1, ...parts: Uint8Array[]) => parts.reduce((h, p) => h.update(p), createHash('sha256').update(Uint8Array.of(tag))).digest()

describe('auditTurnHash: the one-shot hash is byte-identical to the streaming definition', () => {
  it('random parts, empty parts, offset views', () => {
    const big = randomBytes(70_000)
    for (let i = 0; i < 300; i++) {
      const n = i % 4
      const parts = Array.from({ length: n }, (_, j) => {
        const len = [0, 1, 32, 33, 65_536][(i + j) % 5]!
        const off = (i * 7 + j) % 1000
        return j % 2 ? new Uint8Array(big.subarray(off, off + len)) : big.subarray(off, off + len)
      })
      const tag = (i % 2) as 0 | 1
      const got = auditTurnHash(tag, ...parts)
      expect(Buffer.isBuffer(got)).toBe(true)
      expect(got.toString('hex')).toBe(streaming(tag, ...parts).toString('hex'))
    }
  })
  it('a leaf is SHA-256(0 ‖ seq as 8 bytes ‖ head)', () => {
    const head = `0x${'ab'.repeat(32)}`
    const want = createHash('sha256').update(Uint8Array.of(0)).update(Buffer.from(`${(2 ** 40 + 5).toString(16).padStart(16, '0')}${'ab'.repeat(32)}`, 'hex')).digest('hex')
    expect(auditTurnLeaf(2 ** 40 + 5, head).toString('hex')).toBe(want)
  })
})
