import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { openFromX25519, sealToX25519, x25519PublicKey } from './keyExitCipher.js'

describe('keyExitCipher', () => {
  const secret = new Uint8Array(randomBytes(32))
  const pub = x25519PublicKey(secret)
  const key = new Uint8Array(randomBytes(32))
  const ctx = '0x00000000000000000000000000000000000000aa'

  it('round-trips to the recipient, with fresh randomness each time', () => {
    const a = sealToX25519(pub, key, ctx)
    expect(a).toHaveLength(92)
    expect(openFromX25519(secret, a, ctx)).toEqual(key)
    expect(Buffer.from(sealToX25519(pub, key, ctx)).equals(Buffer.from(a))).toBe(false)
  })

  it('refuses another key, another context, a flipped bit and a low-order key', () => {
    const a = sealToX25519(pub, key, ctx)
    expect(() => openFromX25519(new Uint8Array(randomBytes(32)), a, ctx)).toThrow()
    expect(() => openFromX25519(secret, a, `${ctx.slice(0, -1)}b`)).toThrow()
    for (const i of [0, 40, 50, 80]) {
      const b = Uint8Array.from(a)
      b[i]! ^= 1
      expect(() => openFromX25519(secret, b, ctx)).toThrow()
    }
    expect(() => sealToX25519(new Uint8Array(32), key, ctx)).toThrow()
  })
})
