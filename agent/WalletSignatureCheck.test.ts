import { randomBytes } from 'node:crypto'
import { secp256k1 } from '@noble/curves/secp256k1'
import { type Hex, bytesToHex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { describe, expect, it } from 'vitest'
import { SECP256K1_ENGINE, type Secp256k1Engine, recoverSecp256k1 } from './recoverSecp256k1.js'
import { WalletSignatureCheck } from './WalletSignatureCheck.js'

const WALLET_KEY = `0x${'11'.repeat(32)}` as const
const OTHER_KEY = `0x${'22'.repeat(32)}` as const
const wallet = privateKeyToAccount(WALLET_KEY).address
const N = secp256k1.CURVE.n

/** r ‖ s ‖ v (27/28) as the enclave sends it, signed with noble (independent of both recovery engines). */
function signDigest(key: Hex, digest: Uint8Array): Hex {
  const s = secp256k1.sign(digest, key.slice(2))
  return `0x${s.r.toString(16).padStart(64, '0')}${s.s.toString(16).padStart(64, '0')}${(27 + s.recovery).toString(16)}`
}
const withRS = (sig: Hex, r: bigint, s: bigint, v?: number) =>
  `0x${r.toString(16).padStart(64, '0')}${s.toString(16).padStart(64, '0')}${(v ?? Number.parseInt(sig.slice(130), 16)).toString(16).padStart(2, '0')}` as Hex
const rOf = (sig: Hex) => BigInt(`0x${sig.slice(2, 66)}`)
const sOf = (sig: Hex) => BigInt(`0x${sig.slice(66, 130)}`)
const vOf = (sig: Hex) => Number.parseInt(sig.slice(130), 16)

describe.each<Secp256k1Engine>(['libsecp256k1', 'noble'])('WalletSignatureCheck (%s)', (engine) => {
  const digest = () => new Uint8Array(randomBytes(32))
  const fresh = () => new WalletSignatureCheck(wallet, engine)
  const code = (f: () => void) => {
    try {
      f()
      return 'accepted'
    } catch (e) {
      return (e as { code?: string }).code
    }
  }

  it('accepts the wallet, learns its key from the first answer, and keeps accepting it', () => {
    const c = fresh()
    expect(c.publicKey).toBeUndefined()
    for (let i = 0; i < 3; i++) {
      const d = digest()
      expect(code(() => c.check(d, signDigest(WALLET_KEY, d), 'typed-data'))).toBe('accepted')
    }
    expect(bytesToHex(c.publicKey!)).toBe(bytesToHex(secp256k1.getPublicKey(WALLET_KEY.slice(2), false)))
  })

  it('a wrong signer first does not poison the learnt key; a wrong signer later is refused too', () => {
    const c = fresh()
    const d1 = digest()
    expect(code(() => c.check(d1, signDigest(OTHER_KEY, d1), 'typed-data'))).toBe('response_signer_mismatch')
    expect(c.publicKey).toBeUndefined()
    const d2 = digest()
    expect(code(() => c.check(d2, signDigest(WALLET_KEY, d2), 'typed-data'))).toBe('accepted')
    const d3 = digest()
    expect(code(() => c.check(d3, signDigest(OTHER_KEY, d3), 'typed-data'))).toBe('response_signer_mismatch')
  })

  it("refuses the wallet's own signature of another digest, before and after the key is learnt", () => {
    for (const learnt of [false, true]) {
      const c = fresh()
      if (learnt) {
        const d = digest()
        c.check(d, signDigest(WALLET_KEY, d), 'typed-data')
      }
      const asked = digest()
      const other = digest()
      expect(code(() => c.check(asked, signDigest(WALLET_KEY, other), 'typed-data'))).toBe('response_signer_mismatch')
    }
  })

  it('refuses a flipped recovery bit, a flipped bit in r or s, and the high-s twin', () => {
    const c = fresh()
    const d0 = digest()
    c.check(d0, signDigest(WALLET_KEY, d0), 'typed-data')
    const d = digest()
    const sig = signDigest(WALLET_KEY, d)
    const v = vOf(sig)
    expect(code(() => c.check(d, withRS(sig, rOf(sig), sOf(sig), v === 27 ? 28 : 27), 'x'))).toBe('response_signer_mismatch')
    expect(code(() => c.check(d, withRS(sig, rOf(sig) ^ 1n, sOf(sig)), 'x'))).toBe('response_signer_mismatch')
    expect(code(() => c.check(d, withRS(sig, rOf(sig), sOf(sig) ^ 2n), 'x'))).toBe('response_signer_mismatch')
    // (r, n − s, ¬v) is the same key's signature of the same digest, but not low-s: chains that require EIP-2 refuse it.
    expect(code(() => c.check(d, withRS(sig, rOf(sig), N - sOf(sig), v === 27 ? 28 : 27), 'x'))).toBe('response_invalid')
    expect(code(() => c.check(d, sig, 'x'))).toBe('accepted')
  })

  it('refuses malformed signatures: length, v, r or s zero or ≥ n', () => {
    const c = fresh()
    const d = digest()
    const sig = signDigest(WALLET_KEY, d)
    expect(code(() => c.check(d, sig.slice(0, 130) as Hex, 'x'))).toBe('response_invalid')
    expect(code(() => c.check(d, withRS(sig, rOf(sig), sOf(sig), 29), 'x'))).toBe('response_invalid')
    expect(code(() => c.check(d, withRS(sig, 0n, sOf(sig)), 'x'))).toBe('response_signer_mismatch')
    expect(code(() => c.check(d, withRS(sig, rOf(sig), 0n), 'x'))).toBe('response_signer_mismatch')
    expect(code(() => c.check(d, withRS(sig, N + 1n, sOf(sig)), 'x'))).toBe('response_signer_mismatch')
    expect(code(() => c.check(d, sig, 'x'))).toBe('accepted')
  })
})

describe('recoverSecp256k1', () => {
  it('uses native libsecp256k1 on this machine (the optional `secp256k1` prebuild loaded)', () => {
    expect(SECP256K1_ENGINE, 'npm ci did not install the secp256k1 binding: the SDK falls back to pure JS (~30× slower checks)').toBe(
      'libsecp256k1',
    )
  })

  it('both engines recover the same key as noble for random keys and digests', () => {
    for (let i = 0; i < 50; i++) {
      const key = secp256k1.utils.randomPrivateKey()
      const d = new Uint8Array(randomBytes(32))
      const s = secp256k1.sign(d, key)
      const rs = s.toCompactRawBytes()
      const want = bytesToHex(secp256k1.getPublicKey(key, false))
      for (const engine of ['libsecp256k1', 'noble'] as const)
        expect(bytesToHex(recoverSecp256k1({ digest: d, rs, recoveryBit: s.recovery as 0 | 1, engine })!)).toBe(want)
    }
  })
})
