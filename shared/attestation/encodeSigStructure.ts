const SIGNATURE1_PREFIX = new Uint8Array([0x84, 0x6a, ...new TextEncoder().encode('Signature1')])

/**
 * COSE Sig_structure for COSE_Sign1 (RFC 9052 §4.4): ["Signature1", protected, h'', payload], from the ORIGINAL
 * protected and payload bytes, in the deterministic CBOR every encoder writes (shortest length headers); written by
 * hand because it is on every verification (encodeSigStructure.test.ts checks it against cborg byte for byte).
 */
export function encodeSigStructure(protectedBytes: Uint8Array, payloadBytes: Uint8Array): Uint8Array {
  const protectedHead = byteStringHead(protectedBytes.length)
  const payloadHead = byteStringHead(payloadBytes.length)
  const out = new Uint8Array(SIGNATURE1_PREFIX.length + protectedHead.length + protectedBytes.length + 1 + payloadHead.length + payloadBytes.length)
  let at = 0
  for (const part of [SIGNATURE1_PREFIX, protectedHead, protectedBytes, EMPTY_BYTE_STRING, payloadHead, payloadBytes]) {
    out.set(part, at)
    at += part.length
  }
  return out
}

const EMPTY_BYTE_STRING = new Uint8Array([0x40])

/** CBOR major type 2 head for a byte string of `n` bytes (n < 2^32; a COSE document is at most a few KiB). */
function byteStringHead(n: number): Uint8Array {
  if (n < 24) return new Uint8Array([0x40 | n])
  if (n < 0x100) return new Uint8Array([0x58, n])
  if (n < 0x10000) return new Uint8Array([0x59, n >>> 8, n & 0xff])
  return new Uint8Array([0x5a, n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff])
}
