import { bytesToHex, hexToBytes } from 'viem'
import { privateKeyToAddress } from 'viem/accounts'
import { describe, expect, it, vi } from 'vitest'
import { generateSignerKey } from './generateSignerKey.js'

// Lets a test queue the CSPRNG's next outputs; otherwise the real randomBytes runs.
const queued: Uint8Array[] = []
vi.mock('node:crypto', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:crypto')>()
  return { ...real, randomBytes: (n: number) => (queued.length ? Buffer.from(queued.shift()!) : real.randomBytes(n)) }
})

const N = hexToBytes('0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141')

describe('generateSignerKey', () => {
  it('returns distinct valid keys whose address viem derives the same way', () => {
    const seen = new Set<string>()
    for (let i = 0; i < 20; i++) {
      const { privateKey, address } = generateSignerKey()
      expect(privateKey).toBeInstanceOf(Uint8Array)
      expect(privateKey.length).toBe(32)
      expect(privateKeyToAddress(bytesToHex(privateKey))).toBe(address)
      seen.add(bytesToHex(privateKey))
    }
    expect(seen.size).toBe(20)
  })

  it('rejects zero and scalars ≥ n instead of reducing them', () => {
    const good = new Uint8Array(32).fill(7)
    queued.push(new Uint8Array(32), N, new Uint8Array(32).fill(0xff), good)
    const { privateKey } = generateSignerKey()
    expect(bytesToHex(privateKey)).toBe(bytesToHex(good))
    expect(queued.length).toBe(0)
  })
})
