/**
 * TRUST: parses bytes that arrive from KMS through the untrusted host. Every
 * input is hostile until proven otherwise; every failure is a typed
 * SealError, never a crash. Parsing is not authentication: the RSA-OAEP
 * unwrap and the sealed blob's AES-GCM tag are what authenticate.
 */
import { ContentInfo, EnvelopedData } from '@peculiar/asn1-cms'
import { AsnParser } from '@peculiar/asn1-schema'
import * as asn1js from 'asn1js'
import { SealError } from '../seal/SealError.js'

export const OID_ENVELOPED_DATA = '1.2.840.113549.1.7.3'
export const OID_DATA = '1.2.840.113549.1.7.1'
export const OID_RSAES_OAEP = '1.2.840.113549.1.1.7'
export const OID_AES256_CBC = '2.16.840.1.101.3.4.1.42'

/** A DER TLV with a short-form length (every part below is under 128 bytes), in hex. */
const tlv = (tag: string, ...parts: string[]) => `${tag}${(parts.join('').length / 2).toString(16).padStart(2, '0')}${parts.join('')}`
const SHA256_ALG = ['', '0500'].map((nul) => tlv('30', '0609608648016503040201', nul))
/**
 * The RSAES-OAEP-params accepted, DER hex (RFC 8017 A.2.1): hash SHA-256 and MGF1 with SHA-256 (each
 * AlgorithmIdentifier's parameters absent or NULL: OpenSSL writes them absent, KMS NULL) and the empty label
 * (pSourceAlgorithm absent, its default, or pSpecified of an empty OCTET STRING). The SHA-1 defaults, any other
 * algorithm or parameter and any other encoding are refused (kmsOaepParams.property.test.ts: a subset of what the
 * field-by-field reader this replaces accepted, and every DER form it accepted).
 */
export const OAEP_PARAMS: ReadonlySet<string> = new Set(SHA256_ALG.flatMap((hash) => SHA256_ALG.flatMap((mgfHash) => ['', tlv('a2', tlv('30', '06092a864886f70d010109', '0400'))].map((label) =>
  tlv('30', tlv('a0', hash), tlv('a1', tlv('30', '06092a864886f70d010108', mgfHash)), label)))))

/** Largest CiphertextForRecipient accepted (KMS answers are about 500 bytes). */
export const MAX_CMS_BYTES = 16 * 1024

export type ParsedCiphertextForRecipient = {
  /** RSA-OAEP(SHA-256, MGF1-SHA-256) wrapped content-encryption key. */
  encryptedKey: Uint8Array
  /** AES-256-CBC IV (16 bytes). */
  iv: Uint8Array
  /** AES-256-CBC ciphertext with PKCS#7 padding; constructed chunks already concatenated. */
  ciphertext: Uint8Array
}

/**
 * Parses a KMS `CiphertextForRecipient` (BER CMS ContentInfo/EnvelopedData,
 * one KeyTransRecipientInfo, RSAES-OAEP-SHA-256, AES-256-CBC) into the
 * wrapped key, IV and ciphertext; anything else is refused.
 */
export function parseCiphertextForRecipient(cms: Uint8Array): ParsedCiphertextForRecipient {
  if (!(cms instanceof Uint8Array) || cms.length === 0) malformed('CiphertextForRecipient is empty or not bytes')
  if (cms.length > MAX_CMS_BYTES) malformed(`CiphertextForRecipient is ${cms.length} bytes, above ${MAX_CMS_BYTES}`)
  const whole = ber(cms, 'ContentInfo')
  if (whole.offset !== cms.length) malformed(`${cms.length - whole.offset} trailing bytes after ContentInfo`)

  const contentInfo = guard(() => AsnParser.parse(cms, ContentInfo), 'ContentInfo')
  if (contentInfo.contentType !== OID_ENVELOPED_DATA) unsupported(`content type ${contentInfo.contentType} is not envelopedData`)
  const enveloped = guard(() => AsnParser.parse(contentInfo.content, EnvelopedData), 'EnvelopedData')
  if (enveloped.version !== 0 && enveloped.version !== 2) unsupported(`EnvelopedData version ${enveloped.version}`)
  if (enveloped.originatorInfo !== undefined) unsupported('originatorInfo is not expected from KMS')
  if (enveloped.recipientInfos.length !== 1) unsupported(`${enveloped.recipientInfos.length} recipients, expected exactly 1`)
  const ktri = enveloped.recipientInfos[0]?.ktri
  if (ktri === undefined) unsupported('the recipient is not a KeyTransRecipientInfo')

  if (ktri.keyEncryptionAlgorithm.algorithm !== OID_RSAES_OAEP) {
    unsupported(`key encryption algorithm ${ktri.keyEncryptionAlgorithm.algorithm} is not RSAES-OAEP`)
  }
  const oaep = ktri.keyEncryptionAlgorithm.parameters
  if (!oaep || !OAEP_PARAMS.has(Buffer.from(oaep).toString('hex'))) unsupported('RSAES-OAEP parameters are not SHA-256, MGF1 with SHA-256 and an empty label, in DER (the SHA-1 defaults are refused)')
  const encryptedKey = bytes(ktri.encryptedKey.buffer)
  if (encryptedKey.length === 0) malformed('encryptedKey is empty')

  const eci = enveloped.encryptedContentInfo
  if (eci.contentType !== OID_DATA) unsupported(`encrypted content type ${eci.contentType} is not id-data`)
  const alg = eci.contentEncryptionAlgorithm
  if (alg.algorithm !== OID_AES256_CBC) unsupported(`content encryption ${alg.algorithm} is not AES-256-CBC`)
  // The IV: exactly a DER primitive OCTET STRING of 16 bytes (04 10 …).
  const ivDer = new Uint8Array(alg.parameters ?? new ArrayBuffer(0))
  if (ivDer.length !== 18 || ivDer[0] !== 0x04 || ivDer[1] !== 16) malformed('the AES-256-CBC IV is not a 16-byte OCTET STRING (DER)')
  const iv = ivDer.slice(2)

  const content = eci.encryptedContent
  let ciphertext: Uint8Array
  if (content?.value !== undefined) {
    ciphertext = bytes(content.value.buffer)
  } else if (content?.constructedValue !== undefined) {
    // BER: an indefinite-length constructed [0] of OCTET STRING chunks; concatenate them.
    ciphertext = new Uint8Array(Buffer.concat(content.constructedValue.map((c) => bytes(c.buffer))))
  } else {
    malformed('encryptedContent is absent')
  }
  if (ciphertext.length === 0 || ciphertext.length % 16 !== 0) malformed(`ciphertext length ${ciphertext.length} is not a positive multiple of 16`)
  return { encryptedKey, iv, ciphertext }
}

function ber(view: Uint8Array, what: string): { offset: number; result: asn1js.AsnType } {
  const parsed = guard(() => asn1js.fromBER(view), what)
  if (parsed.offset === -1 || parsed.result.error) malformed(`${what} is not valid BER: ${parsed.result.error || 'unknown'}`)
  return parsed
}

function guard<T>(fn: () => T, what: string): T {
  try {
    return fn()
  } catch (cause) {
    if (cause instanceof SealError) throw cause
    malformed(`${what} does not parse`, cause)
  }
}

function bytes(b: ArrayBuffer): Uint8Array {
  return new Uint8Array(b.slice(0))
}

function malformed(why: string, cause?: unknown): never {
  throw new SealError('seal_cms_malformed', 'KMS CiphertextForRecipient is malformed', { details: why, cause })
}

function unsupported(why: string): never {
  throw new SealError('seal_cms_unsupported', 'KMS CiphertextForRecipient uses an unsupported structure or algorithm', { details: why })
}
