import { encode } from 'cborg'

/**
 * `encode(obj)` with the values of `raw`'s keys already encoded (a value may be parts), as parts: the same bytes once
 * joined, since cborg writes a map's (string) keys shortest first, then bytewise, and every value's encoding stands
 * alone. tail37: a seal hands the parts to the sealer, which streams them (a ~1 MB blob is not joined first).
 */
export function encodeWithRaw(obj: Record<string, unknown>, raw: Record<string, Uint8Array | Uint8Array[]>): Uint8Array[] {
  const keys = Object.keys(obj).sort((p, q) => p.length - q.length || (p < q ? -1 : p > q ? 1 : 0))
  return [cborHead(0xa0, keys.length), ...keys.flatMap((k) => [encode(k), ...[raw[k] ?? encode(obj[k])].flat()])]
}

/** A CBOR head (major type 0x40 bytes, 0x60 text, 0xa0 map…) with argument `n`, as cborg writes it. */
export function cborHead(major: number, n: number): Uint8Array {
  const h = new Uint8Array(9)
  return h.subarray(0, head(h, 0, major, n))
}

/** Writes a CBOR head (major type, minimal-length argument) at `off`; returns the offset after it. */
export function head(out: Uint8Array, off: number, major: number, n: number): number {
  const size = n < 24 ? 0 : n < 256 ? 1 : n < 65536 ? 2 : n < 2 ** 32 ? 4 : 8
  out[off] = major | (size ? 24 + Math.log2(size) : n)
  for (let i = size, v = n; i > 0; i--, v = Math.floor(v / 256)) out[off + i] = v % 256
  return off + 1 + size
}

export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let off = 0
  for (const p of parts) out.set(p, off), (off += p.length)
  return out
}
