/**
 * The few `node:crypto` calls the shared verifiers make (SHA-256, Ed25519 SPKI keys and signatures), in the
 * browser, with @noble (the same audited primitives viem uses). Vite aliases `node:crypto` to this file for the
 * console bundle only, so the console runs the very same shared/ verifier code the CLI runs.
 */
import { ed25519 } from '@noble/curves/ed25519'
import { sha256 } from '@noble/hashes/sha2.js'

type Bytes = Uint8Array
const ED25519_SPKI_PREFIX = '302a300506032b6570032100'
const toHex = (b: Bytes) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('')
const fromHex = (h: string) => Uint8Array.from(h.match(/../g) ?? [], (x) => Number.parseInt(x, 16))
const bytesOf = (v: string | Bytes, enc?: string): Bytes =>
  typeof v === 'string' ? (enc === 'hex' ? fromHex(v) : new TextEncoder().encode(v)) : v

/** SHA-256 only (the shared code hashes nothing else). */
export function createHash(alg: string) {
  if (alg !== 'sha256') throw new TypeError(`createHash(${alg}) is not available in the console`)
  const h = sha256.create()
  const api = {
    update(v: string | Bytes, enc?: string) {
      h.update(bytesOf(v, enc))
      return api
    },
    digest(enc?: string): string | Bytes {
      const d = h.digest()
      return enc === 'hex' ? toHex(d) : d
    },
  }
  return api as { update(v: string | Bytes, enc?: string): typeof api; digest(enc: 'hex'): string; digest(): Bytes }
}

export type KeyObject = { type: 'public'; asymmetricKeyType: 'ed25519'; raw: Bytes }

/** Ed25519 SPKI DER (or raw 32 bytes) → a key object the shim's `verify` takes. */
export function createPublicKey(input: { key: Bytes | string; format?: string; type?: string } | string): KeyObject {
  if (typeof input === 'string') throw new TypeError('PEM keys are not supported in the console')
  const der = typeof input.key === 'string' ? fromHex(input.key) : new Uint8Array(input.key)
  const hex = toHex(der)
  if (der.length === 44 && hex.startsWith(ED25519_SPKI_PREFIX)) return { type: 'public', asymmetricKeyType: 'ed25519', raw: der.slice(12) }
  throw new TypeError('not an Ed25519 SPKI public key')
}

/** Ed25519 verify (algorithm null, as node's one-shot API). */
export function verify(_alg: null, data: Bytes, key: KeyObject, signature: Bytes): boolean {
  try {
    return ed25519.verify(new Uint8Array(signature), new Uint8Array(data), key.raw)
  } catch {
    return false
  }
}

export function randomBytes(n: number): Bytes {
  return crypto.getRandomValues(new Uint8Array(n))
}

export function timingSafeEqual(a: Bytes, b: Bytes): boolean {
  if (a.length !== b.length) return false
  let d = 0
  for (let i = 0; i < a.length; i++) d |= (a[i] ?? 0) ^ (b[i] ?? 0)
  return d === 0
}

export default { createHash, createPublicKey, verify, randomBytes, timingSafeEqual }
