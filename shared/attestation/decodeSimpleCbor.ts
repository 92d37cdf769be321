/** Returned when the input leaves the simple subset: the caller must decode it with the full strict decoder. */
export const NOT_SIMPLE: unique symbol = Symbol('not simple CBOR')

const MAX_DEPTH = 8
const ASCII_LOOP_MAX = 64
const utf8 = new TextDecoder('utf-8', { fatal: true })

/**
 * Fast path of decodeStrictCbor for the shape every NSM writes: definite lengths, shortest heads, unsigned and
 * negative integers (safe range), byte and valid UTF-8 text strings (no leading BOM), arrays, maps with distinct text or integer keys,
 * true/false/null, and (if `allowTag18`) one leading tag 18, with the whole input consumed. Its result is the value
 * decodeStrictCbor's cborg path gives for the same bytes (decodeSimpleCbor.test.ts compares them), except that byte
 * strings are always Uint8Array copies (cborg returns views when the input is a Buffer); ANYTHING else,
 * valid or not, returns NOT_SIMPLE and the caller decodes with cborg, which keeps every verdict and error code.
 */
export function decodeSimpleCbor(bytes: Uint8Array, allowTag18: boolean): unknown {
  const reader = { bytes, at: 0 }
  let value: unknown
  if (allowTag18 && bytes[0] === 0xd2) {
    reader.at = 1
    const inner = item(reader, 1)
    value = inner === NOT_SIMPLE ? NOT_SIMPLE : { tag18: inner }
  } else {
    value = item(reader, 0)
  }
  return value === NOT_SIMPLE || reader.at !== bytes.length ? NOT_SIMPLE : value
}

type Reader = { bytes: Uint8Array; at: number }

function item(r: Reader, depth: number): unknown {
  if (depth > MAX_DEPTH || r.at >= r.bytes.length) return NOT_SIMPLE
  const initial = r.bytes[r.at++]!
  const major = initial >> 5
  if (major === 7) {
    if (initial === 0xf4) return false
    if (initial === 0xf5) return true
    if (initial === 0xf6) return null
    return NOT_SIMPLE
  }
  if (major === 6) return NOT_SIMPLE
  const n = argument(r, initial & 0x1f)
  if (n < 0) return NOT_SIMPLE
  switch (major) {
    case 0:
      return n
    case 1:
      // cborg gives a bigint below Number.MIN_SAFE_INTEGER.
      return n < Number.MAX_SAFE_INTEGER ? -1 - n : NOT_SIMPLE
    case 2:
    case 3: {
      if (n > r.bytes.length - r.at) return NOT_SIMPLE
      const start = r.at
      r.at += n
      if (major === 2) {
        // A private copy as cborg makes (Buffer#slice would be a view into the caller's bytes).
        const copy = new Uint8Array(n)
        copy.set(r.bytes.subarray(start, r.at))
        return copy
      }
      // A leading byte-order mark is left to cborg (TextDecoder drops it): rare, and not worth a second rule here.
      if (n >= 3 && r.bytes[start] === 0xef && r.bytes[start + 1] === 0xbb && r.bytes[start + 2] === 0xbf) return NOT_SIMPLE
      const ascii = n <= ASCII_LOOP_MAX ? shortAscii(r.bytes, start, r.at) : undefined
      if (ascii !== undefined) return ascii
      try {
        return utf8.decode(r.bytes.subarray(start, r.at))
      } catch {
        return NOT_SIMPLE
      }
    }
    case 4: {
      if (n > r.bytes.length - r.at) return NOT_SIMPLE
      const out: unknown[] = []
      for (let i = 0; i < n; i++) {
        const v = item(r, depth + 1)
        if (v === NOT_SIMPLE) return NOT_SIMPLE
        out.push(v)
      }
      return out
    }
    case 5: {
      if (n > r.bytes.length - r.at) return NOT_SIMPLE
      const out = new Map<unknown, unknown>()
      for (let i = 0; i < n; i++) {
        const key = item(r, depth + 1)
        if ((typeof key !== 'string' && typeof key !== 'number') || out.has(key)) return NOT_SIMPLE
        const v = item(r, depth + 1)
        if (v === NOT_SIMPLE) return NOT_SIMPLE
        out.set(key, v)
      }
      return out
    }
  }
  return NOT_SIMPLE
}

/** Short ASCII text (every key, module_id, digest) without a call into TextDecoder (the same string), else undefined. */
function shortAscii(bytes: Uint8Array, start: number, end: number): string | undefined {
  let text = ''
  for (let i = start; i < end; i++) {
    if (bytes[i]! >= 0x80) return undefined
    text += String.fromCharCode(bytes[i]!)
  }
  return text
}

/** The head's argument when it is the shortest encoding of a safe integer, else -1. */
function argument(r: Reader, info: number): number {
  if (info < 24) return info
  const size = info === 24 ? 1 : info === 25 ? 2 : info === 26 ? 4 : info === 27 ? 8 : 0
  if (size === 0 || size > r.bytes.length - r.at) return -1
  let n = 0
  for (let i = 0; i < size; i++) n = n * 256 + r.bytes[r.at + i]!
  r.at += size
  const shortest = size === 1 ? n >= 24 : n >= 256 ** (size / 2)
  return shortest && n <= Number.MAX_SAFE_INTEGER ? n : -1
}
