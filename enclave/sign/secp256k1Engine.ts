/**
 * TRUST: the secp256k1 engine wallet keys sign with. libsecp256k1 (the
 * `secp256k1` package's native binding: upstream bitcoin-core C, constant-time
 * signing, RFC 6979 nonce, low-s) when it loads; otherwise @noble/curves (pure
 * JS). Both are deterministic (RFC 6979), so a signature is byte-identical
 * whichever engine made it (enclave/sign/secp256k1Engine.test.ts checks both
 * against viem); the engine in use is logged at start-up and reported in hello.
 */
import { randomBytes } from 'node:crypto'
import { createRequire } from 'node:module'
import { secp256k1 } from '@noble/curves/secp256k1.js'
import { EnclaveError } from '../../shared/errors/EnclaveError.js'

export type SignEngine = 'libsecp256k1' | 'noble'
export type RawSignature = { rs: Uint8Array; yParity: 0 | 1 }

type Native = {
  ecdsaSign(msg32: Uint8Array, seckey: Uint8Array): { signature: Uint8Array; recid: number }
  publicKeyCreate(seckey: Uint8Array, compressed: boolean): Uint8Array
  contextRandomize(seed: Uint8Array): void
}

function loadNative(): Native | undefined {
  // BURSAR_SIGN_ENGINE=noble forces the pure-JS engine (benchmarks, or a host where the binding misbehaves).
  if (process.env.BURSAR_SIGN_ENGINE === 'noble') return undefined
  try {
    // The native binding only: the package's index.js would fall back to a pure-JS elliptic, which we never want.
    // A runtime require (not bundled): node-gyp-build picks build/Release or the prebuilt linux-x64 N-API addon.
    const lib = createRequire(import.meta.url)('secp256k1/bindings.js') as Native
    // Blinds the base-point multiplication against side channels (upstream's advice); signatures stay deterministic.
    lib.contextRandomize(randomBytes(32))
    return lib
  } catch {
    return undefined
  }
}

const native = loadNative()

/** The engine signDigest uses in this process. */
export const SIGN_ENGINE: SignEngine = native ? 'libsecp256k1' : 'noble'

/**
 * ECDSA over a 32-byte digest (no prehash): RFC 6979 nonce, low-s, recovery
 * bit. Throws (without the key) for a key that is not a valid scalar.
 */
export function signDigest(digest: Uint8Array, key: Uint8Array, engine: SignEngine = SIGN_ENGINE): RawSignature {
  if (engine === 'libsecp256k1') {
    if (!native) throw new EnclaveError('internal_error', 'libsecp256k1 binding is not loaded')
    const { signature, recid } = native.ecdsaSign(reduced(digest), key)
    return { rs: signature, yParity: recid as 0 | 1 }
  }
  const sig = secp256k1.sign(digest, key, { lowS: true })
  return { rs: sig.toCompactRawBytes(), yParity: sig.recovery as 0 | 1 }
}

/** The 65-byte uncompressed public key of a valid scalar (natively, noble's base-point tables are never built: ~4 MB RSS). */
export function publicKeyOf(key: Uint8Array, engine: SignEngine = SIGN_ENGINE): Uint8Array {
  return engine === 'libsecp256k1' && native ? native.publicKeyCreate(key, false) : secp256k1.getPublicKey(key, false)
}

const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n
const N_BYTES = Buffer.from(N.toString(16), 'hex')

/**
 * The digest mod n. The vendored libsecp256k1 feeds its RFC 6979 nonce the raw
 * digest, where RFC 6979 (and noble, hence viem) use bits2octets = digest mod n:
 * for a digest ≥ n the signature would be valid but differ from viem's. Reducing
 * first makes both the nonce input and e identical (found by the fixed vector
 * 0xff…ff in secp256k1Engine.test.ts). The digest is public: no constant time needed.
 */
function reduced(digest: Uint8Array): Uint8Array {
  if (Buffer.compare(digest, N_BYTES) < 0) return digest
  return Buffer.from((BigInt(`0x${Buffer.from(digest).toString('hex')}`) - N).toString(16).padStart(64, '0'), 'hex')
}
