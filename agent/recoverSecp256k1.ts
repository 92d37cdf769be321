import { createRequire } from 'node:module'
import { secp256k1 } from '@noble/curves/secp256k1'

/** Which implementation recovers wallet keys in this process: libsecp256k1 (native, optional dependency) or @noble/curves (pure JS). */
export type Secp256k1Engine = 'libsecp256k1' | 'noble'

type NativeSecp256k1 = {
  ecdsaRecover(sig: Uint8Array, recid: number, msg32: Uint8Array, compressed?: boolean): Uint8Array
}

function loadNative(): NativeSecp256k1 | undefined {
  try {
    // The `secp256k1` package's native binding only (its index.js would fall back to a slow pure-JS elliptic).
    return createRequire(import.meta.url)('secp256k1/bindings.js') as NativeSecp256k1
  } catch {
    return undefined
  }
}

const native = loadNative()

/** The engine recoverSecp256k1 uses by default: the native one when its binding loads. */
export const SECP256K1_ENGINE: Secp256k1Engine = native ? 'libsecp256k1' : 'noble'

export type RecoverSecp256k1Parameters = {
  /** The 32-byte digest that was signed. */
  digest: Uint8Array
  /** r ‖ s, 64 bytes. */
  rs: Uint8Array
  recoveryBit: 0 | 1
  engine?: Secp256k1Engine | undefined
}

/**
 * The public key (65-byte uncompressed SEC1) that produced an ECDSA signature
 * over `digest`, or undefined when the signature recovers to no key (r or s
 * out of range, no curve point for r). Natively ~30× faster than pure JS.
 */
export function recoverSecp256k1(params: RecoverSecp256k1Parameters): Uint8Array | undefined {
  const engine = params.engine ?? SECP256K1_ENGINE
  try {
    if (engine === 'libsecp256k1') {
      if (!native) return undefined
      return native.ecdsaRecover(params.rs, params.recoveryBit, params.digest, false)
    }
    const sig = secp256k1.Signature.fromCompact(params.rs).addRecoveryBit(params.recoveryBit)
    return sig.recoverPublicKey(params.digest).toRawBytes(false)
  } catch {
    return undefined
  }
}
