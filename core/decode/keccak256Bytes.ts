/**
 * TRUST: Keccak-256 for the EIP-3009 digest (the x402 hot path: two hashes, three permutations per payment).
 * hash-wasm's Keccak (WebAssembly built from its C source, bundled: no file or network read; it runs in its own
 * linear memory) when WebAssembly compiles at load; @noble/hashes otherwise (pure JS, as before). Both are
 * byte for byte the same function (keccak256Bytes.test.ts: fixed vectors and random inputs across every
 * block boundary against noble); ~2 vs ~20 µs per payment (cpu37). The engine in use is KECCAK_ENGINE.
 */
import { keccak_256 } from '@noble/hashes/sha3.js'
import hashWasm from 'hash-wasm/dist/keccak.umd.min.js'

export type KeccakEngine = 'hash-wasm' | 'noble'

// One hasher, reset before every use; every call runs to completion synchronously, so no state is ever shared between two hashes.
const wasm = await hashWasm.createKeccak(256).catch(() => undefined)

export const KECCAK_ENGINE: KeccakEngine = wasm ? 'hash-wasm' : 'noble'

/** Keccak-256 (Ethereum's, not SHA3-256) of `data`: a fresh 32-byte array. */
export function keccak256Bytes(data: Uint8Array, engine: KeccakEngine = KECCAK_ENGINE): Uint8Array {
  if (engine === 'noble' || !wasm) return keccak_256(data)
  wasm.init()
  wasm.update(data)
  return wasm.digest('binary')
}
