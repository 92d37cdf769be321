import { createHash, createPublicKey, type KeyObject } from 'node:crypto'
import * as asn1js from 'asn1js'
import { AttestationError } from './AttestationError.js'

/** ecdsa-with-SHA384, the only signature algorithm in a Nitro chain. */
export const OID_ECDSA_SHA384 = '1.2.840.10045.4.3.3'
const OID_BASIC_CONSTRAINTS = '2.5.29.19'
const OID_KEY_USAGE = '2.5.29.15'
/** Extensions we understand well enough to accept when marked critical. */
const KNOWN_CRITICAL = new Set([OID_BASIC_CONSTRAINTS, OID_KEY_USAGE, '2.5.29.37', '2.5.29.17', '2.5.29.14', '2.5.29.35'])

/** What chain validation needs from one X.509 certificate, read from its original DER. */
export type ParsedCertificate = {
  der: Uint8Array
  /** SHA-256 of the DER, hex: the cache key. */
  fingerprint: string
  /** Original tbsCertificate bytes (what the issuer signed). */
  tbs: Uint8Array
  signatureAlgorithm: string
  /** DER ECDSA-Sig-Value from the signature BIT STRING. */
  signature: Uint8Array
  /** Hex of the DER-encoded issuer and subject Names (compared byte for byte). */
  issuer: string
  subject: string
  notBefore: number
  notAfter: number
  publicKey: KeyObject
  /** e.g. 'secp384r1'; undefined for non-EC keys. */
  namedCurve: string | undefined
  basicConstraints: { ca: boolean; pathLen: number | undefined } | null
  keyUsage: { digitalSignature: boolean; keyCertSign: boolean } | null
  /** OID of a critical extension we do not process (RFC 5280 says refuse), or null. */
  unknownCritical: string | null
}

/** Parses one DER certificate (no trailing bytes) into the fields chain validation checks; refuses with `attestation_chain_invalid`. */
export function parseCertificate(der: Uint8Array, label: string): ParsedCertificate {
  try {
    return parse(der)
  } catch (cause) {
    if (cause instanceof AttestationError) throw cause
    throw bad(label, cause instanceof Error ? cause.message : String(cause))
  }
}

function parse(der: Uint8Array): ParsedCertificate {
  const parsed = asn1js.fromBER(der)
  if (parsed.offset !== der.length || parsed.result.error) throw new TypeError('not a single DER structure')
  const cert = seq(parsed.result, 3, 'Certificate')
  const [tbsBlock, sigAlg, sigValue] = cert
  const tbsItems = seq(tbsBlock, 6, 'tbsCertificate')
  let i = 0
  const first = tbsItems[0]!
  if (first.idBlock.tagClass === 3 && first.idBlock.tagNumber === 0) i++
  const serial = tbsItems[i++]
  const innerAlg = tbsItems[i++]
  const issuer = tbsItems[i++]
  const validity = seq(tbsItems[i++], 2, 'validity')
  const subject = tbsItems[i++]
  const spki = tbsItems[i++]
  if (!(serial instanceof asn1js.Integer)) throw new TypeError('serial is not an INTEGER')
  if (!(issuer instanceof asn1js.Sequence) || !(subject instanceof asn1js.Sequence)) throw new TypeError('bad Name')
  if (!(spki instanceof asn1js.Sequence)) throw new TypeError('bad SubjectPublicKeyInfo')
  if (!(sigAlg instanceof asn1js.Sequence) || !(innerAlg instanceof asn1js.Sequence)) throw new TypeError('bad AlgorithmIdentifier')
  if (!Buffer.from(sigAlg.valueBeforeDecodeView).equals(Buffer.from(innerAlg.valueBeforeDecodeView))) {
    throw new TypeError('signature algorithm differs between tbsCertificate and Certificate')
  }
  const oid = sigAlg.valueBlock.value[0]
  if (!(oid instanceof asn1js.ObjectIdentifier)) throw new TypeError('bad algorithm OID')
  if (!(sigValue instanceof asn1js.BitString) || sigValue.valueBlock.unusedBits !== 0) throw new TypeError('bad signature BIT STRING')

  let basicConstraints: ParsedCertificate['basicConstraints'] = null
  let keyUsage: ParsedCertificate['keyUsage'] = null
  let unknownCritical: string | null = null
  for (; i < tbsItems.length; i++) {
    const item = tbsItems[i]!
    if (item.idBlock.tagClass !== 3 || item.idBlock.tagNumber !== 3) continue
    const seen = new Set<string>()
    for (const ext of seq((item as asn1js.Constructed).valueBlock.value[0], 0, 'extensions')) {
      const parts = seq(ext, 2, 'extension')
      const extOid = (parts[0] as asn1js.ObjectIdentifier).valueBlock.toString()
      if (seen.has(extOid)) throw new TypeError(`duplicate extension ${extOid}`)
      seen.add(extOid)
      const critical = parts.length === 3 && parts[1] instanceof asn1js.Boolean && parts[1].getValue()
      const value = parts[parts.length - 1]
      if (!(value instanceof asn1js.OctetString)) throw new TypeError('extension value is not an OCTET STRING')
      const content = value.valueBlock.valueHexView
      if (extOid === OID_BASIC_CONSTRAINTS) basicConstraints = parseBasicConstraints(content)
      else if (extOid === OID_KEY_USAGE) keyUsage = parseKeyUsage(content)
      if (critical && !KNOWN_CRITICAL.has(extOid)) unknownCritical ??= extOid
    }
  }
  const publicKey = createPublicKey({ key: Buffer.from(spki.valueBeforeDecodeView), format: 'der', type: 'spki' })
  return {
    der,
    fingerprint: createHash('sha256').update(der).digest('hex'),
    tbs: tbsBlock!.valueBeforeDecodeView,
    signatureAlgorithm: oid.valueBlock.toString(),
    signature: sigValue.valueBlock.valueHexView,
    issuer: Buffer.from(issuer.valueBeforeDecodeView).toString('hex'),
    subject: Buffer.from(subject.valueBeforeDecodeView).toString('hex'),
    notBefore: time(validity[0]),
    notAfter: time(validity[1]),
    publicKey,
    namedCurve: publicKey.asymmetricKeyDetails?.namedCurve,
    basicConstraints,
    keyUsage,
    unknownCritical,
  }
}

function parseBasicConstraints(content: Uint8Array): { ca: boolean; pathLen: number | undefined } {
  const parsed = asn1js.fromBER(content)
  if (parsed.offset !== content.length) throw new TypeError('bad basicConstraints')
  let ca = false
  let pathLen: number | undefined
  for (const item of seq(parsed.result, 0, 'basicConstraints')) {
    if (item instanceof asn1js.Boolean) ca = item.getValue()
    else if (item instanceof asn1js.Integer) pathLen = item.valueBlock.valueDec
    else throw new TypeError('bad basicConstraints item')
  }
  if (pathLen !== undefined && (!Number.isInteger(pathLen) || pathLen < 0)) throw new TypeError('bad pathLenConstraint')
  return { ca, pathLen }
}

function parseKeyUsage(content: Uint8Array): { digitalSignature: boolean; keyCertSign: boolean } {
  const parsed = asn1js.fromBER(content)
  if (parsed.offset !== content.length || !(parsed.result instanceof asn1js.BitString)) throw new TypeError('bad keyUsage')
  const first = parsed.result.valueBlock.valueHexView[0] ?? 0
  return { digitalSignature: (first & 0x80) !== 0, keyCertSign: (first & 0x04) !== 0 }
}

function seq(block: asn1js.AsnType | undefined, min: number, what: string): asn1js.AsnType[] {
  if (!(block instanceof asn1js.Sequence)) throw new TypeError(`${what} is not a SEQUENCE`)
  const items = block.valueBlock.value
  if (items.length < min) throw new TypeError(`${what} has ${items.length} items, expected at least ${min}`)
  return items
}

function time(block: asn1js.AsnType | undefined): number {
  if (!(block instanceof asn1js.UTCTime)) throw new TypeError('validity time is not UTCTime/GeneralizedTime')
  const ms = block.toDate().getTime()
  if (!Number.isFinite(ms)) throw new TypeError('invalid validity time')
  return ms
}

function bad(label: string, reason: string): AttestationError {
  return new AttestationError('attestation_chain_invalid', `Certificate ${label} is not a valid X.509 certificate`, { details: reason })
}
