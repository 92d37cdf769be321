import { encode } from 'cborg'
import { head as writeHead } from '../../core/state/encodeWithRaw.js'

/**
 * Issue 18 (cpu18d): one frame (4-byte big-endian length + CBOR body) written straight into one buffer, byte for byte
 * what `cborg.encode` with its defaults makes (property-tested against it): map keys sorted by UTF-8 length then
 * bytes, the shortest integer heads, strings as UTF-8 (a lone surrogate as U+FFFD). It covers what frames carry —
 * null, booleans, safe integers, strings, byte arrays, arrays, plain objects with ASCII keys — and hands any other
 * value (floats, bigints, Maps, non-ASCII keys, cycles) to cborg whole, so its output never differs.
 * Returns the frame and its body's length.
 */
export function encodeCborFrame(value: unknown): { frame: Buffer; bodyLength: number } {
  // A getter that encodes a frame itself would write into the same buffer: such a value goes to cborg.
  if (busy || !tryPut(value)) {
    const body = encode(value)
    const frame = Buffer.allocUnsafe(4 + body.length)
    frame.set(body, 4)
    frame.writeUInt32BE(body.length, 0)
    return { frame, bodyLength: body.length }
  }
  const frame = Buffer.allocUnsafe(pos)
  buf.copy(frame, 0, 0, pos)
  frame.writeUInt32BE(pos - 4, 0)
  if (buf.length > KEEP_BYTES) buf = Buffer.allocUnsafe(KEEP_BYTES) // a large frame (sealed blobs) does not stay resident
  return { frame, bodyLength: pos - 4 }
}

const KEEP_BYTES = 256 * 1024
let buf = Buffer.allocUnsafe(KEEP_BYTES)
let pos = 0
let busy = false
const MAX_DEPTH = 64 // deeper (or a cycle): cborg decides
const SHORT = 160 // strings this long or shorter are tried as ASCII first (hashes, signatures, ids)
const MAX_KEYS = 64 // more keys in one object: cborg decides (the insertion sort below is quadratic)
const SIMPLE = new Map<unknown, number>([[false, 0xf4], [true, 0xf5], [null, 0xf6], [undefined, 0xf7]])

function tryPut(value: unknown): boolean {
  busy = true
  pos = 4
  try {
    return put(value, 0)
  } finally {
    busy = false
  }
}

function room(n: number): void {
  if (pos + n <= buf.length) return
  const next = Buffer.allocUnsafe(Math.max(buf.length * 2, pos + n))
  buf.copy(next, 0, 0, pos)
  buf = next
}

/** The shortest head for `n` (< 2^53), by the one head writer. */
function head(major: number, n: number): void {
  room(9)
  pos = writeHead(buf, pos, major, n)
}

function putString(s: string): void {
  const len = s.length
  if (len <= SHORT) {
    // ASCII in a loop (most keys and values); anything else through Buffer's UTF-8 writer.
    room(2 + len)
    const b = buf // locals in the loop: module variables are context slots, loaded and stored each character
    const start = pos
    let p = start + (len < 24 ? 1 : 2)
    let i = 0
    for (let c = 0; i < len && (c = s.charCodeAt(i)) < 0x80; i++) b[p++] = c
    if (i === len) {
      if (len < 24) b[start] = 0x60 | len
      else (b[start] = 0x78), (b[start + 1] = len)
      pos = p
      return
    }
  }
  const n = Buffer.byteLength(s, 'utf8')
  head(0x60, n)
  room(n)
  pos += buf.write(s, pos, n, 'utf8')
}

/** Writes `v`; false if cborg must encode the whole value (a kind this does not cover). */
function put(v: unknown, depth: number): boolean {
  // Strings and numbers first: a Map lookup hashes a string key (the whole ~1.5 KB audit entry text, each answer).
  if (typeof v === 'string') return putString(v), true
  if (typeof v === 'number') return Number.isSafeInteger(v) && (v >= 0 ? head(0x00, v) : head(0x20, -1 - v), true)
  const simple = SIMPLE.get(v)
  if (simple !== undefined) return room(1), (buf[pos++] = simple), true
  if (typeof v !== 'object' || depth >= MAX_DEPTH) return false
  if (Array.isArray(v)) {
    head(0x80, v.length)
    for (let i = 0; i < v.length; i++) if (!put(v[i], depth + 1)) return false
    return true
  }
  if (v instanceof Uint8Array) return head(0x40, v.length), room(v.length), buf.set(v, pos), (pos += v.length), true
  if (v!.constructor !== Object) return false
  const o = v as Record<string, unknown>
  const keys = Object.keys(o)
  if (keys.length > MAX_KEYS) return false
  // cborg's order for ASCII keys: shorter first, then string order; an insertion sort (Array.prototype.sort with a
  // comparator allocates a work array per call).
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!
    for (let c = 0; c < k.length; c++) if (k.charCodeAt(c) > 0x7f) return false
    let j = i - 1
    for (; j >= 0 && (k.length < keys[j]!.length || (k.length === keys[j]!.length && k < keys[j]!)); j--) keys[j + 1] = keys[j]!
    keys[j + 1] = k
  }
  head(0xa0, keys.length)
  for (const k of keys) if ((putString(k), !put(o[k], depth + 1))) return false
  return true
}
