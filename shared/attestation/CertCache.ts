import { parseCertificate, type ParsedCertificate } from './parseCertificate.js'

/** Default bound on each of the cache's two maps. */
export const CERT_CACHE_MAX_ENTRIES = 512

/** Bytes of a certificate's DER tail (inside its signature value) that pick its lookup slot. */
const SLOT_TAIL_BYTES = 32

/**
 * Bounded memo for chain validation: parsed certificates found by their exact
 * DER (a hit needs every byte equal to the copy parsed), the (issuer, subject)
 * pairs whose certificate signature already verified, keyed by the SHA-256 of
 * both DERs, and the last pinned root given as PEM text. Only pure facts about
 * bytes are cached; validity windows, CA flags and path lengths are re-checked
 * on every call at the caller's chosen time, so a cached link never outlives
 * its certificates.
 */
export class CertCache {
  readonly #maxEntries: number
  readonly #parsed = new Map<number, { der: Buffer; parsed: ParsedCertificate }>()
  readonly #verifiedLinks = new Map<string, true>()
  #rootText: string | undefined
  #rootParsed: ParsedCertificate | undefined

  constructor(maxEntries = CERT_CACHE_MAX_ENTRIES) {
    this.#maxEntries = maxEntries
  }

  /** Parses `der` (or returns the cached parse of byte-identical DER). */
  parse(der: Uint8Array, label: string): ParsedCertificate {
    // The slot is a cheap locator, not an identity: a hit must match every byte (a slot collision is a miss).
    const slot = slotOf(der)
    const hit = this.#parsed.get(slot)
    if (hit && hit.der.equals(der)) return touch(this.#parsed, slot, hit).parsed
    // SECURITY: compare against, and parse, a private copy, so a caller that later mutates its buffer cannot change a hit.
    const own = Buffer.from(der)
    const parsed = parseCertificate(new Uint8Array(own.buffer, own.byteOffset, own.length), label)
    insert(this.#parsed, slot, { der: own, parsed }, this.#maxEntries)
    return parsed
  }

  /** The parse remembered for this exact pinned-root PEM text (see rememberRoot), or undefined. */
  rootFor(root: string | Uint8Array): ParsedCertificate | undefined {
    return typeof root === 'string' && root === this.#rootText ? this.#rootParsed : undefined
  }

  /** Remembers the parse of a pinned root given as PEM text, so the next call with the same text skips PEM decoding. */
  rememberRoot(root: string | Uint8Array, parsed: ParsedCertificate): void {
    if (typeof root !== 'string') return
    this.#rootText = root
    this.#rootParsed = parsed
  }

  /** True when `child`'s signature was already verified under `issuer`'s key. */
  hasVerifiedLink(issuer: ParsedCertificate, child: ParsedCertificate): boolean {
    const key = `${issuer.fingerprint}:${child.fingerprint}`
    const hit = this.#verifiedLinks.get(key)
    if (hit) touch(this.#verifiedLinks, key, hit)
    return hit === true
  }

  /** Records a successful signature check of `child` under `issuer`. */
  addVerifiedLink(issuer: ParsedCertificate, child: ParsedCertificate): void {
    insert(this.#verifiedLinks, `${issuer.fingerprint}:${child.fingerprint}`, true, this.#maxEntries)
  }

  get size(): number {
    return this.#parsed.size + this.#verifiedLinks.size
  }

  clear(): void {
    this.#parsed.clear()
    this.#verifiedLinks.clear()
    this.#rootText = undefined
    this.#rootParsed = undefined
  }
}

/** Process-wide cache used by verifyAttestation unless the caller passes its own. */
export const defaultCertCache = new CertCache()

/** A 32-bit mix of the DER length and tail: picks the slot; equality of all bytes decides a hit. */
function slotOf(der: Uint8Array): number {
  let h = der.length | 0
  for (let i = Math.max(0, der.length - SLOT_TAIL_BYTES); i < der.length; i++) h = (Math.imul(h, 31) + der[i]!) | 0
  return h
}

function touch<K, V>(map: Map<K, V>, key: K, value: V): V {
  map.delete(key)
  map.set(key, value)
  return value
}

function insert<K, V>(map: Map<K, V>, key: K, value: V, max: number): void {
  map.delete(key)
  map.set(key, value)
  while (map.size > max) {
    const oldest = map.keys().next().value
    if (oldest === undefined) break
    map.delete(oldest)
  }
}
