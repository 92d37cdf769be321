/**
 * The few `node:crypto` calls the shared verifiers make (SHA-256, Ed25519 SPKI keys and signatures), in the
 * browser, with @noble (the same audited primitives viem uses). Vite aliases `node:crypto` to this file for the
 * console bundle only, so the console runs the very same shared/ verifier code the CLI runs.
 */
import { ed25519 } from '@noble/curves/ed25519'
import { p384 } from '@noble/curves/nist'
import { sha256, sha384 } from '@noble/hashes/sha2.js'
import { Buffer } from 'buffer'

type Bytes = Uint8Array
const ED25519_SPKI_PREFIX = '302a300506032b6570032100'
/** SubjectPublicKeyInfo of an uncompressed P-384 point (id-ecPublicKey, secp384r1): the 97 point bytes follow. */
const P384_SPKI_PREFIX = '3076301006072a8648ce3d020106052b81040022036200'
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
      return enc === 'hex' ? toHex(d) : Buffer.from(d)
    },
  }
  return api as { update(v: string | Bytes, enc?: string): typeof api; digest(enc: 'hex'): string; digest(): Bytes }
}

export type KeyObject =
  | { type: 'public'; asymmetricKeyType: 'ed25519'; raw: Bytes; asymmetricKeyDetails?: undefined }
  | { type: 'public'; asymmetricKeyType: 'ec'; raw: Bytes; asymmetricKeyDetails: { namedCurve: 'secp384r1' } }

/** Ed25519 or P-384 SPKI DER → a key object the shim's `verify` takes (the attestation chain is all P-384). */
export function createPublicKey(input: { key: Bytes | string; format?: string; type?: string } | string): KeyObject {
  if (typeof input === 'string') throw new TypeError('PEM keys are not supported in the console')
  const der = typeof input.key === 'string' ? fromHex(input.key) : new Uint8Array(input.key)
  const hex = toHex(der)
  if (der.length === 44 && hex.startsWith(ED25519_SPKI_PREFIX)) return { type: 'public', asymmetricKeyType: 'ed25519', raw: der.slice(12) }
  if (der.length === 120 && hex.startsWith(P384_SPKI_PREFIX))
    return { type: 'public', asymmetricKeyType: 'ec', raw: der.slice(23), asymmetricKeyDetails: { namedCurve: 'secp384r1' } }
  throw new TypeError('not an Ed25519 or P-384 SPKI public key')
}

/** node's one-shot verify: Ed25519 (algorithm null) or ECDSA P-384 over SHA-384 (DER or r‖s signatures). */
export function verify(alg: string | null, data: Bytes, key: KeyObject | { key: KeyObject; dsaEncoding?: 'der' | 'ieee-p1363' }, signature: Bytes): boolean {
  const k = 'key' in key ? key.key : key
  try {
    if (alg === null && k.asymmetricKeyType === 'ed25519') return ed25519.verify(new Uint8Array(signature), new Uint8Array(data), k.raw)
    if (alg === 'sha384' && k.asymmetricKeyType === 'ec') {
      const format = 'dsaEncoding' in key && key.dsaEncoding === 'ieee-p1363' ? 'compact' : 'der'
      // X.509 and COSE signatures are not normalized to low S.
      return p384.verify(new Uint8Array(signature), sha384(new Uint8Array(data)), k.raw, { lowS: false, prehash: false, format })
    }
    return false
  } catch {
    return false
  }
}

/** A Buffer, as node's: callers use `.toString('hex')`. */
export function randomBytes(n: number): Buffer {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(n)))
}

export function timingSafeEqual(a: Bytes, b: Bytes): boolean {
  if (a.length !== b.length) return false
  let d = 0
  for (let i = 0; i < a.length; i++) d |= (a[i] ?? 0) ^ (b[i] ?? 0)
  return d === 0
}

export default { createHash, createPublicKey, verify, randomBytes, timingSafeEqual }

/** The key-exit cipher (ChaCha20-Poly1305) is reachable from OwnerClient but never run in the console: the owner exports and imports keys with the CLI, on their own machine. */
export function createCipheriv(): never {
  throw new TypeError('key export and import run in the CLI (bursar owner wallet export/import), not in the console')
}
export const createDecipheriv = createCipheriv
export const createPrivateKey = createCipheriv
