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

/**
 * Writes a CBOR head (major type, the shortest argument for `n` < 2^53) at `off`, as cborg writes it; returns the
 * offset after it. The one head writer: the sealed state's parts here and in RecentIds, and every frame
 * (shared/protocol/encodeCborFrame.ts). cpu39: shifts (n >>> k: of its low 32 bits), one division for the high word
 * of 8 (an answer frame encoded in 0.74–0.78× the time of a float division per byte).
 */
export function head(out: Uint8Array, off: number, major: number, n: number): number {
  const extra = n < 24 ? 0 : n < 0x100 ? 1 : n < 0x10000 ? 2 : n < 0x100000000 ? 4 : 8
  out[off++] = major | (extra === 0 ? n : extra === 1 ? 24 : extra === 2 ? 25 : extra === 4 ? 26 : 27)
  for (let i = extra - 1, hi = extra === 8 ? Math.floor(n / 2 ** 32) : 0; i >= 0; i--) out[off++] = ((i < 4 ? n : hi) >>> (8 * (i & 3))) & 0xff
  return off
}

export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let off = 0
  for (const p of parts) out.set(p, off), (off += p.length)
  return out
}
