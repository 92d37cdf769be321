import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js'
import { BaseError } from '../errors/base.js'

/** Deterministic JSON (sorted keys, no whitespace, RFC 8785 style for the value kinds bursar uses) so both sides hash the same bytes. */
export function canonicalJson(v: unknown): string {
  if (v === null) return 'null'
  switch (typeof v) {
    case 'string':
      return quote(v)
    case 'boolean':
      return v ? 'true' : 'false'
    case 'number':
      if (!Number.isFinite(v)) throw new CanonicalJsonError('non-finite number')
      return JSON.stringify(v)
    case 'object': {
      // Issue 18 (cpu18): loops, not map/filter/join (the audit entry is canonicalized per decision: ~16 → ~12 µs).
      let s: string
      if (Array.isArray(v)) {
        s = '['
        for (let i = 0; i < v.length; i++) {
          const x: unknown = v[i]
          s += (i === 0 ? '' : ',') + (x === undefined && !(i in v) ? '' : canonicalJson(x)) // a hole joins as ''
        }
        return `${s}]`
      }
      const obj = v as Record<string, unknown>
      const keys = sortedKeys(obj)
      s = '{'
      for (const k of keys) {
        const x = obj[k]
        if (x !== undefined) s += (s.length === 1 ? '' : ',') + quote(k) + ':' + canonicalJson(x)
      }
      return `${s}}`
    }
    default:
      throw new CanonicalJsonError(`unsupported value of type ${typeof v} (encode bigints as decimal strings)`)
  }
}

// What JSON.stringify escapes in a string: control characters, quote, backslash, any surrogate (a lone one becomes \uXXXX).
const NEEDS_ESCAPE = /[\u0000-\u001f"\\\ud800-\udfff]/
/** JSON.stringify of a string; most need no escape (hex, ids, keys): quoted as they are, without its new string (cpu37). */
const quote = (s: string): string => (NEEDS_ESCAPE.test(s) ? JSON.stringify(s) : `"${s}"`)

/**
 * Object.keys(o).sort(), by UTF-16 code units as sort() compares: an insertion sort for the few keys of bursar's
 * objects (cpu18d: Array.prototype.sort allocates a work array per call, ~6 KB of garbage per audit entry).
 */
function sortedKeys(o: object): string[] {
  const keys = Object.keys(o)
  if (keys.length > 24) return keys.sort()
  for (let i = 1; i < keys.length; i++) {
    const k = keys[i]!
    let j = i - 1
    for (; j >= 0 && keys[j]! > k; j--) keys[j + 1] = keys[j]!
    keys[j + 1] = k
  }
  return keys
}

/** 0x + SHA-256 (hex) of the value's canonical JSON: how policies, approval summaries and approval keys are hashed. */
export function canonicalHash(v: unknown): `0x${string}` {
  return `0x${bytesToHex(sha256(utf8ToBytes(canonicalJson(v))))}`
}

export class CanonicalJsonError extends BaseError {
  constructor(what: string) {
    super('canonical_json_unsupported', `Cannot canonicalize: ${what}`)
  }
}
