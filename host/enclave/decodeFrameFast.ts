/**
 * Issue 18 (cpu39): the enclave's response frames decoded without cborg's token objects, for the shapes
 * encodeCborFrame writes: definite maps with ASCII string keys, arrays, ASCII text, byte strings, integers within 2^53 − 1, float64, true, false, null. Anything else — a non-ASCII byte in a text string, a 64-bit integer, a tag,
 * undefined, indefinite lengths, float16/32, a duplicate or `__proto__` key, truncated or trailing bytes — returns
 * undefined and the caller decodes the frame with cborg (decodeFrameBody), which decides it. What it returns equals
 * cborg's decode of the same bytes (decodeFrameFast.test.ts, differential on generated values and byte mutations).
 */
import { isAscii } from 'node:buffer'

const FAIL = Symbol('fail')
let b: Buffer
let p = 0

export function decodeFrameFast(body: Buffer): unknown {
  b = body
  p = 0
  const v = item()
  const ok = v !== FAIL && p === body.length
  b = EMPTY
  return ok ? v : undefined
}
const EMPTY = Buffer.alloc(0)

/** The argument of the head at p (its length or value), p moved past it; -1: not one this decoder takes. */
function arg(minor: number): number {
  if (minor < 24) return minor
  const at = p
  if (minor === 24 && at < b.length) return (p += 1), b[at]!
  if (minor === 25 && at + 2 <= b.length) return (p += 2), (b[at]! << 8) | b[at + 1]!
  if (minor === 26 && at + 4 <= b.length) return (p += 4), b.readUInt32BE(at)
  // 64 bits: a number up to 2^53 − 1 (cborg's range without allowBigInt; it refuses the rest).
  if (minor === 27 && at + 8 <= b.length && b.readUInt32BE(at) < 0x200000) return (p += 8), b.readUInt32BE(at) * 0x100000000 + b.readUInt32BE(at + 4)
  return -1
}

function item(): unknown {
  if (p >= b.length) return FAIL
  const h = b[p++]!, major = h >> 5, minor = h & 31
  if (major === 7) {
    if (minor === 20) return false
    if (minor === 21) return true
    if (minor === 22) return null
    if (minor === 27 && p + 8 <= b.length) return (p += 8), b.readDoubleBE(p - 8)
    return FAIL
  }
  const n = arg(minor)
  if (n < 0) return FAIL
  switch (major) {
    case 0:
      return n
    case 1:
      return n === Number.MAX_SAFE_INTEGER ? FAIL : -1 - n
    case 2: {
      if (p + n > b.length) return FAIL
      const out = new Uint8Array(b.subarray(p, p + n)) // a copy, as cborg's
      p += n
      return out
    }
    case 3:
      return text(n)
    case 4: {
      const out: unknown[] = []
      for (let i = 0; i < n; i++) {
        const x = item()
        if (x === FAIL) return FAIL
        out.push(x)
      }
      return out
    }
    case 5: {
      const out: Record<string, unknown> = {}
      for (let i = 0; i < n; i++) {
        const h2 = p < b.length ? b[p++]! : 0
        if (h2 >> 5 !== 3) return FAIL
        const len = arg(h2 & 31)
        const k = len < 0 ? FAIL : text(len)
        if (k === FAIL || k === '__proto__' || Object.hasOwn(out, k)) return FAIL
        const x = item()
        if (x === FAIL) return FAIL
        out[k] = x
      }
      return out
    }
    default: // 6: tags
      return FAIL
  }
}

/** n bytes of ASCII text at p; FAIL on any other byte (cborg decodes UTF-8 its own way). */
function text(n: number): string | typeof FAIL {
  const end = p + n
  if (end > b.length) return FAIL
  if (!shortAscii(p, end)) return FAIL
  const s = (b as unknown as { latin1Slice(s: number, e: number): string }).latin1Slice(p, end)
  p = end
  return s
}

function shortAscii(from: number, end: number): boolean {
  for (let i = from; i < end; i++) if (b[i]! > 0x7f) return false
  return true
}
