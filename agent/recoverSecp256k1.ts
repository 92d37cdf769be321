import { createRequire } from 'node:module'
import path from 'node:path'
import { secp256k1 } from '@noble/curves/secp256k1'

/** Which implementation recovers wallet keys in this process: libsecp256k1 (native, optional dependency) or @noble/curves (pure JS). */
export type Secp256k1Engine = 'libsecp256k1' | 'noble'

/** The `secp256k1` package's N-API addon, called directly: writes the key into `output`, answers 0 on success. */
type NativeSecp256k1 = {
  ecdsaRecover(output: Uint8Array, sig64: Uint8Array, recid: number, msg32: Uint8Array): number
}

function loadNative(): NativeSecp256k1 | undefined {
  try {
    // The package's prebuilt libsecp256k1 addon itself, as its bindings.js loads it, without the JS wrapper's
    // argument checks (lengths are checked by the addon and by the caller); never its index.js, which would fall
    // back to a slow pure-JS elliptic.
    const require = createRequire(import.meta.url)
    const dir = path.dirname(require.resolve('secp256k1/bindings.js'))
    const load = createRequire(path.join(dir, 'bindings.js'))('node-gyp-build') as (dir: string) => { Secp256k1: new () => NativeSecp256k1 }
    return new (load(dir).Secp256k1)()
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
      if (!native || params.rs.length !== 64 || params.digest.length !== 32) return undefined
      const out = new Uint8Array(65)
      return native.ecdsaRecover(out, params.rs, params.recoveryBit, params.digest) === 0 ? out : undefined
    }
    const sig = secp256k1.Signature.fromCompact(params.rs).addRecoveryBit(params.recoveryBit)
    return sig.recoverPublicKey(params.digest).toRawBytes(false)
  } catch {
    return undefined
  }
}
