import { createHash } from 'node:crypto'
import { parseCertificate, type ParsedCertificate } from './parseCertificate.js'

/** Default bound on each of the cache's two maps. */
export const CERT_CACHE_MAX_ENTRIES = 512

/**
 * Bounded memo for chain validation: parsed certificates keyed by the SHA-256
 * of their exact DER, and the (issuer, subject) pairs whose certificate
 * signature already verified. Only pure facts about bytes are cached; validity
 * windows, CA flags and path lengths are re-checked on every call at the
 * caller's chosen time, so a cached link never outlives its certificates.
 */
export class CertCache {
  readonly #maxEntries: number
  readonly #parsed = new Map<string, ParsedCertificate>()
  readonly #verifiedLinks = new Map<string, true>()

  constructor(maxEntries = CERT_CACHE_MAX_ENTRIES) {
    this.#maxEntries = maxEntries
  }

  /** Parses `der` (or returns the cached parse of identical bytes). */
  parse(der: Uint8Array, label: string): ParsedCertificate {
    const key = createHash('sha256').update(der).digest('hex')
    const hit = this.#parsed.get(key)
    if (hit) return touch(this.#parsed, key, hit)
    const parsed = parseCertificate(der, label)
    insert(this.#parsed, key, parsed, this.#maxEntries)
    return parsed
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
  }
}

/** Process-wide cache used by verifyAttestation unless the caller passes its own. */
export const defaultCertCache = new CertCache()

function touch<V>(map: Map<string, V>, key: string, value: V): V {
  map.delete(key)
  map.set(key, value)
  return value
}

function insert<V>(map: Map<string, V>, key: string, value: V, max: number): void {
  map.delete(key)
  map.set(key, value)
  while (map.size > max) {
    const oldest = map.keys().next().value
    if (oldest === undefined) break
    map.delete(oldest)
  }
}
