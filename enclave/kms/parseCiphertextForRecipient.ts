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
export const OID_MGF1 = '1.2.840.113549.1.1.8'
export const OID_SHA256 = '2.16.840.1.101.3.4.2.1'
export const OID_P_SPECIFIED = '1.2.840.113549.1.1.9'
export const OID_AES256_CBC = '2.16.840.1.101.3.4.1.42'

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
  checkOaepParams(ktri.keyEncryptionAlgorithm.parameters)
  const encryptedKey = bytes(ktri.encryptedKey.buffer)
  if (encryptedKey.length === 0) malformed('encryptedKey is empty')

  const eci = enveloped.encryptedContentInfo
  if (eci.contentType !== OID_DATA) unsupported(`encrypted content type ${eci.contentType} is not id-data`)
  const alg = eci.contentEncryptionAlgorithm
  if (alg.algorithm !== OID_AES256_CBC) unsupported(`content encryption ${alg.algorithm} is not AES-256-CBC`)
  const iv = octetString(alg.parameters, 'AES-256-CBC IV')
  if (iv.length !== 16) malformed(`IV is ${iv.length} bytes, expected 16`)

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

/** RSAES-OAEP-params must say SHA-256, MGF1 with SHA-256, and an empty label (the SHA-1 defaults are refused). */
function checkOaepParams(params: ArrayBuffer | null | undefined): void {
  if (params === null || params === undefined) unsupported('RSAES-OAEP parameters absent (SHA-1 defaults are refused)')
  const seq = ber(new Uint8Array(params), 'RSAES-OAEP-params').result
  if (!(seq instanceof asn1js.Sequence)) malformed('RSAES-OAEP-params is not a SEQUENCE')
  let hash: string | null = null
  let mgf: { oid: string; params: asn1js.AsnType | undefined } | null = null
  for (const field of seq.valueBlock.value) {
    const { tagClass, tagNumber } = field.idBlock
    const inner = field instanceof asn1js.Constructed ? field.valueBlock.value : []
    if (tagClass !== 3 || inner.length !== 1) malformed('RSAES-OAEP-params field is not an explicit context tag')
    const id = algorithmIdentifier(inner[0]!)
    if (tagNumber === 0) hash = id.oid
    else if (tagNumber === 1) mgf = id
    else if (tagNumber === 2) {
      // pSourceAlgorithm: only id-pSpecified with an empty label.
      const label = id.params
      if (id.oid !== OID_P_SPECIFIED || !(label instanceof asn1js.OctetString) || label.valueBlock.valueHexView.length !== 0) {
        unsupported('OAEP label must be empty')
      }
    } else malformed(`unexpected RSAES-OAEP-params field [${tagNumber}]`)
  }
  if (hash !== OID_SHA256) unsupported(`OAEP hash ${hash ?? 'SHA-1 (default)'} is not SHA-256`)
  if (mgf === null || mgf.oid !== OID_MGF1 || mgf.params === undefined) unsupported('OAEP mask generation is not MGF1 with SHA-256')
  if (algorithmIdentifier(mgf.params).oid !== OID_SHA256) unsupported('OAEP MGF1 hash is not SHA-256')
}

/** Reads AlgorithmIdentifier { OID, parameters? }; a NULL parameter counts as absent. */
function algorithmIdentifier(node: asn1js.AsnType): { oid: string; params: asn1js.AsnType | undefined } {
  if (!(node instanceof asn1js.Sequence)) malformed('AlgorithmIdentifier is not a SEQUENCE')
  const [oid, params, extra] = node.valueBlock.value
  if (!(oid instanceof asn1js.ObjectIdentifier) || extra !== undefined) malformed('AlgorithmIdentifier is malformed')
  return { oid: oid.valueBlock.toString(), params: params instanceof asn1js.Null ? undefined : params }
}

function octetString(der: ArrayBuffer | null | undefined, what: string): Uint8Array {
  if (der === null || der === undefined) malformed(`${what} is absent`)
  const view = new Uint8Array(der)
  const parsed = ber(view, what)
  if (parsed.offset !== view.length) malformed(`${what} has trailing bytes`)
  const node = parsed.result
  if (!(node instanceof asn1js.OctetString) || node.idBlock.isConstructed) malformed(`${what} is not a primitive OCTET STRING`)
  return new Uint8Array(node.valueBlock.valueHexView)
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
