import fc from 'fast-check'
import { getAddress } from 'viem'
import { describe, expect, it } from 'vitest'
import { checksummed } from './checksummed.js'

const outcome = (f: () => string): string => {
  try {
    return `ok:${f()}`
  } catch (e) {
    return `threw:${(e as Error).name}`
  }
}

describe('checksummed is viem getAddress, remembered (cpu37)', () => {
  it('equals getAddress on random addresses in any case, asked again and again past its 1,024-entry bound', () => {
    const address = fc.tuple(fc.uint8Array({ minLength: 20, maxLength: 20 }), fc.uint8Array({ minLength: 40, maxLength: 40 })).map(([b, up]) =>
      `0x${[...Buffer.from(b).toString('hex')].map((c, i) => ((up[i]! & 1) ? c.toUpperCase() : c)).join('')}`)
    const seen: string[] = []
    fc.assert(fc.property(address, fc.nat(), (a, pick) => {
      seen.push(a)
      const again = seen[pick % seen.length]!
      for (const x of [a, again, a.toLowerCase(), `0X${a.slice(2)}`]) expect(outcome(() => checksummed(x))).toBe(outcome(() => getAddress(x)))
    }), { numRuns: 1_500 })
  })

  it('throws as getAddress does for what is not an address, every time (a refusal is never remembered as an answer)', () => {
    for (const bad of ['', '0x', '0x123', `0x${'g'.repeat(40)}`, `0x${'a'.repeat(41)}`, `${'a'.repeat(42)}`, ` 0x${'a'.repeat(40)}`]) {
      expect(outcome(() => checksummed(bad))).toBe(outcome(() => getAddress(bad)))
      expect(outcome(() => checksummed(bad))).toMatch(/^threw:/)
    }
  })
})
