import { encode } from 'cborg'

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
  return { frame, bodyLength: pos - 4 }
}

let buf = Buffer.allocUnsafe(64 * 1024)
let pos = 0
let busy = false

function tryPut(value: unknown): boolean {
  busy = true
  pos = 4
  try {
    return put(value, 0)
  } finally {
    busy = false
  }
}
const MAX_DEPTH = 64 // deeper (or a cycle): cborg decides
const SHORT = 160 // strings this long or shorter are tried as ASCII first (hashes, signatures, ids)

function room(n: number): void {
  if (pos + n <= buf.length) return
  const next = Buffer.allocUnsafe(Math.max(buf.length * 2, pos + n))
  buf.copy(next, 0, 0, pos)
  buf = next
}

function head(major: number, n: number): void {
  room(9)
  if (n < 24) buf[pos++] = major | n
  else if (n < 0x100) (buf[pos++] = major | 24), (buf[pos++] = n)
  else if (n < 0x10000) (buf[pos++] = major | 25), buf.writeUInt16BE(n, pos), (pos += 2)
  else if (n < 0x100000000) (buf[pos++] = major | 26), buf.writeUInt32BE(n, pos), (pos += 4)
  else (buf[pos++] = major | 27), buf.writeUInt32BE(Math.floor(n / 0x100000000), pos), buf.writeUInt32BE(n % 0x100000000, pos + 4), (pos += 8)
}

function putString(s: string): void {
  const len = s.length
  if (len <= SHORT) {
    // ASCII in a loop (most keys and values); anything else through Buffer's UTF-8 writer.
    room(2 + len)
    const start = pos
    pos += len < 24 ? 1 : 2
    let i = 0
    for (; i < len; i++) {
      const c = s.charCodeAt(i)
      if (c > 0x7f) break
      buf[pos++] = c
    }
    if (i === len) {
      if (len < 24) buf[start] = 0x60 | len
      else (buf[start] = 0x78), (buf[start + 1] = len)
      return
    }
    pos = start
  }
  const n = Buffer.byteLength(s, 'utf8')
  head(0x60, n)
  room(n)
  pos += buf.write(s, pos, n, 'utf8')
}

/**
 * cborg's order for ASCII keys: shorter first, then by string order. An insertion sort for the few keys of a frame's
 * objects (Array.prototype.sort with a comparator allocates a work array per call).
 */
function sortKeys(keys: string[]): void {
  const before = (a: string, b: string) => a.length < b.length || (a.length === b.length && a < b)
  if (keys.length > 24) {
    keys.sort((a, b) => (before(a, b) ? -1 : 1))
    return
  }
  for (let i = 1; i < keys.length; i++) {
    const k = keys[i]!
    let j = i - 1
    for (; j >= 0 && before(k, keys[j]!); j--) keys[j + 1] = keys[j]!
    keys[j + 1] = k
  }
}

/** Writes `v`; false if cborg must encode the whole value (a kind this does not cover). */
function put(v: unknown, depth: number): boolean {
  switch (typeof v) {
    case 'string':
      putString(v)
      return true
    case 'number':
      if (!Number.isSafeInteger(v)) return false
      if (v >= 0) head(0x00, v)
      else head(0x20, -1 - v)
      return true
    case 'boolean':
      room(1)
      buf[pos++] = v ? 0xf5 : 0xf4
      return true
    case 'undefined':
      room(1)
      buf[pos++] = 0xf7
      return true
    case 'object': {
      if (v === null) {
        room(1)
        buf[pos++] = 0xf6
        return true
      }
      if (depth >= MAX_DEPTH) return false
      if (Array.isArray(v)) {
        head(0x80, v.length)
        for (let i = 0; i < v.length; i++) if (!put(v[i], depth + 1)) return false
        return true
      }
      if (v instanceof Uint8Array) {
        head(0x40, v.length)
        room(v.length)
        buf.set(v, pos)
        pos += v.length
        return true
      }
      if (v.constructor !== Object) return false
      const o = v as Record<string, unknown>
      const keys = Object.keys(o)
      for (const k of keys) for (let i = 0; i < k.length; i++) if (k.charCodeAt(i) > 0x7f) return false
      sortKeys(keys)
      head(0xa0, keys.length)
      for (const k of keys) {
        putString(k)
        if (!put(o[k], depth + 1)) return false
      }
      return true
    }
    default:
      return false
  }
}
