/**
 * TEST FIXTURE: builds CMS ContentInfo(EnvelopedData) the way AWS KMS shapes
 * `CiphertextForRecipient` (BER, indefinite lengths, KeyTransRecipientInfo by
 * subjectKeyIdentifier, RSAES-OAEP-SHA-256, AES-256-CBC). Hand-rolled TLVs so
 * the bytes do not come from the parser under test's library.
 */
import { type KeyObject, constants, createCipheriv, createHash, publicEncrypt, randomBytes } from 'node:crypto'

export type BuildEnvelopedDataParameters = {
  plaintext: Uint8Array
  /** RSA public key the answer is encrypted to. */
  recipient: KeyObject
  /** 'primitive': encryptedContent as implicit [0] primitive, definite lengths; 'constructed': indefinite [0] of OCTET STRING chunks. */
  encoding: 'primitive' | 'constructed'
  /** Chunk size for the constructed form (default 16). */
  chunkSize?: number | undefined
}

/** Encrypts `plaintext` to `recipient` as a BER CMS EnvelopedData like KMS's CiphertextForRecipient. */
export function buildEnvelopedData(params: BuildEnvelopedDataParameters): Uint8Array {
  const cek = randomBytes(32)
  const iv = randomBytes(16)
  const cipher = createCipheriv('aes-256-cbc', cek, iv)
  const ct = Buffer.concat([cipher.update(params.plaintext), cipher.final()])
  const encryptedKey = publicEncrypt({ key: params.recipient, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, cek)
  const spki = params.recipient.export({ format: 'der', type: 'spki' })
  const ski = createHash('sha256').update(spki).digest()

  const sha256 = seq(oid('2.16.840.1.101.3.4.2.1'), NULL)
  const oaep = seq(oid('1.2.840.113549.1.1.7'), seq(tlv(0xa0, sha256), tlv(0xa1, seq(oid('1.2.840.113549.1.1.8'), sha256))))
  const ktri = seq(int(2), tlv(0x80, ski), oaep, tlv(0x04, encryptedKey))
  const contentAlg = seq(oid('2.16.840.1.101.3.4.1.42'), tlv(0x04, iv))
  if (params.encoding === 'primitive') {
    const eci = seq(oid('1.2.840.113549.1.7.1'), contentAlg, tlv(0x80, ct))
    const ed = seq(int(2), tlv(0x31, ktri), eci)
    return seq(oid('1.2.840.113549.1.7.3'), tlv(0xa0, ed))
  }
  const size = params.chunkSize ?? 16
  const chunks: Uint8Array[] = []
  for (let i = 0; i < ct.length; i += size) chunks.push(tlv(0x04, ct.subarray(i, i + size)))
  const eci = indef(0x30, oid('1.2.840.113549.1.7.1'), contentAlg, indef(0xa0, ...chunks))
  const ed = indef(0x30, int(2), tlv(0x31, ktri), eci)
  return indef(0x30, oid('1.2.840.113549.1.7.3'), indef(0xa0, ed))
}

const NULL = new Uint8Array([0x05, 0x00])

function tlv(tag: number, content: Uint8Array): Uint8Array {
  const n = content.length
  const len = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff]
  return new Uint8Array([tag, ...len, ...content])
}

function seq(...parts: Uint8Array[]): Uint8Array {
  return tlv(0x30, new Uint8Array(Buffer.concat(parts)))
}

function indef(tag: number, ...parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat([Buffer.from([tag, 0x80]), ...parts, Buffer.from([0, 0])]))
}

function int(v: number): Uint8Array {
  return tlv(0x02, new Uint8Array([v]))
}

function oid(dotted: string): Uint8Array {
  const [a, b, ...rest] = dotted.split('.').map(Number)
  const out = [a! * 40 + b!]
  for (const arc of rest) {
    const bytes = [arc & 0x7f]
    for (let v = arc >> 7; v > 0; v >>= 7) bytes.unshift((v & 0x7f) | 0x80)
    out.push(...bytes)
  }
  return tlv(0x06, new Uint8Array(out))
}
