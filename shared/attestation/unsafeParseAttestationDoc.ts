import { AttestationError } from './AttestationError.js'
import { decodeStrictCbor, type CoseTag18 } from './decodeStrictCbor.js'

/** Largest payload the NSM produces (attestation_process.md). */
export const MAX_PAYLOAD_BYTES = 16 * 1024
/** Payload plus COSE framing; anything bigger is refused before decoding. */
export const MAX_DOCUMENT_BYTES = MAX_PAYLOAD_BYTES + 1024
const COSE_ALG_ES384 = -35

/** The fields of a Nitro attestation document (payload of the COSE_Sign1). */
export type AttestationDocument = {
  moduleId: string
  digest: 'SHA384'
  /** Milliseconds since the Unix epoch, as the NSM stamped it. */
  timestamp: number
  pcrs: ReadonlyMap<number, Uint8Array>
  /** DER of the leaf certificate that signed the document. */
  certificate: Uint8Array
  /** DER certificates, root first (cabundle[0] is never trusted). */
  cabundle: readonly Uint8Array[]
  publicKey: Uint8Array | null
  userData: Uint8Array | null
  nonce: Uint8Array | null
}

/** A decoded COSE_Sign1 with the exact bytes its signature covers. */
export type UnsafeParsedAttestation = {
  document: AttestationDocument
  /** Original protected-header bytes (never re-encoded). */
  protectedBytes: Uint8Array
  /** Original payload bytes. */
  payloadBytes: Uint8Array
  /** Raw r‖s, 96 bytes. */
  signature: Uint8Array
  tagged: boolean
}

const KNOWN_KEYS = new Set([
  'module_id', 'digest', 'timestamp', 'pcrs', 'certificate', 'cabundle', 'public_key', 'user_data', 'nonce',
])

/**
 * Decodes a Nitro attestation document and checks every syntactic rule of
 * attestation_process.md, WITHOUT verifying any signature or certificate:
 * use verifyAttestation to trust it.
 */
export function unsafeParseAttestationDoc(bytes: Uint8Array): UnsafeParsedAttestation {
  if (!(bytes instanceof Uint8Array) || bytes.length === 0) malformed('document is empty or not bytes')
  if (bytes.length > MAX_DOCUMENT_BYTES) malformed(`document is ${bytes.length} bytes, above ${MAX_DOCUMENT_BYTES}`)
  let outer = decodeStrictCbor(bytes, 'COSE_Sign1', true)
  let tagged = false
  if (isTag18(outer)) {
    tagged = true
    outer = outer.tag18
  }
  if (!Array.isArray(outer) || outer.length !== 4) malformed('COSE_Sign1 must be an array of 4 items')
  const [protectedBytes, unprotected, payloadBytes, signature] = outer as unknown[]
  if (!(protectedBytes instanceof Uint8Array)) malformed('protected header must be a byte string')
  if (!(unprotected instanceof Map)) malformed('unprotected header must be a map')
  if (!(payloadBytes instanceof Uint8Array)) malformed('payload must be a byte string')
  if (!(signature instanceof Uint8Array)) malformed('signature must be a byte string')

  const header = decodeStrictCbor(protectedBytes, 'protected header')
  if (!(header instanceof Map) || header.size !== 1 || header.get(1) !== COSE_ALG_ES384) {
    field('protected header must be exactly {1: -35} (ES384)')
  }
  if (unprotected.size !== 0) field('unprotected header must be empty')
  if (signature.length !== 96) field(`signature must be 96 bytes (raw r||s), got ${signature.length}`)
  if (payloadBytes.length > MAX_PAYLOAD_BYTES) field(`payload is ${payloadBytes.length} bytes, above ${MAX_PAYLOAD_BYTES}`)

  const payload = decodeStrictCbor(payloadBytes, 'payload')
  if (!(payload instanceof Map)) malformed('payload must be a map')
  return { document: parsePayload(payload), protectedBytes, payloadBytes, signature, tagged }
}

function parsePayload(payload: Map<unknown, unknown>): AttestationDocument {
  for (const key of payload.keys()) {
    if (typeof key !== 'string' || !KNOWN_KEYS.has(key)) field(`unknown payload key ${describe(key)}`)
  }
  const moduleId = payload.get('module_id')
  if (typeof moduleId !== 'string' || moduleId.length === 0) field('module_id must be non-empty text')
  const digest = payload.get('digest')
  if (digest !== 'SHA384') field('digest must be "SHA384"')
  return {
    moduleId,
    digest,
    timestamp: parseTimestamp(payload.get('timestamp')),
    pcrs: parsePcrs(payload.get('pcrs')),
    certificate: bytesField(payload.get('certificate'), 'certificate', 1, 1024),
    cabundle: parseCabundle(payload.get('cabundle')),
    // SECURITY: a zero-length public_key breaks the [1,1024] rule; strict verifiers refuse it.
    publicKey: optionalBytes(payload, 'public_key', 1, 1024),
    userData: optionalBytes(payload, 'user_data', 0, 1024),
    nonce: optionalBytes(payload, 'nonce', 0, 1024),
  }
}

function parseTimestamp(value: unknown): number {
  const n = typeof value === 'bigint' && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n <= 0) field('timestamp must be a positive integer (ms)')
  return n
}

function parsePcrs(value: unknown): Map<number, Uint8Array> {
  if (!(value instanceof Map)) field('pcrs must be a map')
  if (value.size < 1 || value.size > 32) field(`pcrs must have 1..32 entries, got ${value.size}`)
  const pcrs = new Map<number, Uint8Array>()
  for (const [index, digest] of value) {
    if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= 32) {
      field(`PCR index ${describe(index)} out of range 0..31`)
    }
    if (!(digest instanceof Uint8Array) || ![32, 48, 64].includes(digest.length)) {
      field(`PCR${index} must be 32, 48 or 64 bytes`)
    }
    pcrs.set(index, digest)
  }
  return pcrs
}

function parseCabundle(value: unknown): Uint8Array[] {
  if (!Array.isArray(value) || value.length === 0) field('cabundle must be a non-empty array')
  return value.map((cert, i) => bytesField(cert, `cabundle[${i}]`, 1, 1024))
}

function optionalBytes(payload: Map<unknown, unknown>, key: string, min: number, max: number): Uint8Array | null {
  const value = payload.get(key)
  if (value === undefined || value === null) return null
  return bytesField(value, key, min, max)
}

function bytesField(value: unknown, name: string, min: number, max: number): Uint8Array {
  if (!(value instanceof Uint8Array)) field(`${name} must be a byte string`)
  if (value.length < min || value.length > max) field(`${name} must be ${min}..${max} bytes, got ${value.length}`)
  return value
}

function isTag18(value: unknown): value is CoseTag18 {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && 'tag18' in value
}

function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value.slice(0, 40)) : typeof value === 'bigint' ? `${value}` : typeof value === 'number' ? `${value}` : typeof value
}

function malformed(reason: string): never {
  throw new AttestationError('attestation_malformed', 'Attestation document is malformed', { details: reason })
}

function field(reason: string): never {
  throw new AttestationError('attestation_field_invalid', 'Attestation document breaks a field rule', { details: reason })
}
