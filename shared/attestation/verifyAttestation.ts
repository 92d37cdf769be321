import { verify } from 'node:crypto'
import { AttestationError } from './AttestationError.js'
import { type CertCache, defaultCertCache } from './CertCache.js'
import { encodeSigStructure } from './encodeSigStructure.js'
import { pinnedRootDer } from './pinnedRootDer.js'
import { type AttestationDocument, unsafeParseAttestationDoc } from './unsafeParseAttestationDoc.js'
import { verifyCertChain } from './verifyCertChain.js'

/** Default bound on how far a document's timestamp may lie ahead of the verification time. */
export const DEFAULT_MAX_FUTURE_SKEW_MS = 30_000

type Bytes = Uint8Array | string

export type VerifyAttestationOptions = {
  /** REQUIRED trust anchor (PEM text or DER), e.g. AWS_NITRO_ROOT_G1_PEM. Substituted for cabundle[0]. */
  root: string | Uint8Array
  /**
   * Audit mode: the time at which the chain must be valid (Date or ms), or
   * 'document' for the document's own timestamp. Omit for live mode (now).
   */
  at?: Date | number | 'document' | undefined
  /** Maximum age of `timestamp` relative to the verification time. Required in live mode. */
  maxAgeMs?: number | undefined
  /** How far `timestamp` may be ahead of the verification time (default 30 s). */
  maxFutureSkewMs?: number | undefined
  /** Clock for live mode (default Date.now). */
  now?: (() => number) | undefined
  /** PCR index → hex value that must match exactly (all-zero is not a wildcard). */
  expectedPcrs?: Readonly<Record<number, string>> | undefined
  /** Accept debug-mode enclaves (PCR0, PCR1 and PCR2 all zero). Default false. */
  allowDebug?: boolean | undefined
  expectedNonce?: Bytes | undefined
  expectedUserData?: Bytes | undefined
  expectedPublicKey?: Bytes | undefined
  /** Chain-validation memo (default: a process-wide bounded cache). */
  cache?: CertCache | undefined
}

export type VerifiedAttestation = AttestationDocument & {
  /** The time (ms) at which the chain was validated. */
  verifiedAt: number
  /** PCR0, PCR1 and PCR2 all zero (or absent). */
  debugMode: boolean
}

/**
 * Verifies a Nitro attestation document end to end (strict decode, chain to
 * the pinned root at an explicit time, COSE ES384 signature, freshness, then
 * the caller's PCR/debug/nonce/user-data/public-key expectations) and returns
 * its fields; every refusal is an AttestationError whose code names the rule.
 */
export function verifyAttestation(bytes: Uint8Array, options: VerifyAttestationOptions): VerifiedAttestation {
  if (typeof options !== 'object' || options === null) optionsInvalid('options are required')
  const cache = options.cache ?? defaultCertCache
  const root = parseRoot(options.root, cache)
  if (options.at === undefined && options.maxAgeMs === undefined) {
    optionsInvalid('choose the verification time: `at` (audit) or `maxAgeMs` (live)')
  }
  for (const [name, v] of [['maxAgeMs', options.maxAgeMs], ['maxFutureSkewMs', options.maxFutureSkewMs]] as const) {
    if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v) || v < 0)) optionsInvalid(`${name} must be a non-negative number`)
  }
  const expectedPcrs = normalizePcrs(options.expectedPcrs)
  const expectedNonce = optionalBytes(options.expectedNonce, 'expectedNonce')
  const expectedUserData = optionalBytes(options.expectedUserData, 'expectedUserData')
  const expectedPublicKey = optionalBytes(options.expectedPublicKey, 'expectedPublicKey')

  const parsed = unsafeParseAttestationDoc(bytes)
  const doc = parsed.document
  const at = chosenTime(options, doc.timestamp)

  const leaf = verifyCertChain({ root, cabundle: doc.cabundle, leaf: doc.certificate, at, cache })
  // SECURITY: the signature covers the original protected and payload bytes, raw r||s (high-S allowed).
  const sigStructure = encodeSigStructure(parsed.protectedBytes, parsed.payloadBytes)
  let signatureOk = false
  try {
    signatureOk = verify('sha384', sigStructure, { key: leaf.publicKey, dsaEncoding: 'ieee-p1363' }, parsed.signature)
  } catch {
    signatureOk = false
  }
  if (!signatureOk) throw new AttestationError('attestation_signature_invalid', 'COSE_Sign1 signature does not verify under the signing certificate')

  const skew = options.maxFutureSkewMs ?? DEFAULT_MAX_FUTURE_SKEW_MS
  if (doc.timestamp > at + skew) {
    throw new AttestationError('attestation_from_future', 'Document timestamp is ahead of the verification time', {
      expected: `<= ${at + skew}`,
      actual: String(doc.timestamp),
    })
  }
  if (options.maxAgeMs !== undefined && at - doc.timestamp > options.maxAgeMs) {
    throw new AttestationError('attestation_too_old', 'Document is older than the allowed maximum age', {
      expected: `>= ${at - options.maxAgeMs}`,
      actual: String(doc.timestamp),
    })
  }

  const debugMode = [0, 1, 2].every((i) => isZero(doc.pcrs.get(i)))
  if (debugMode && options.allowDebug !== true) {
    throw new AttestationError('attestation_debug_mode', 'Enclave runs in debug mode (PCR0, PCR1 and PCR2 are zero)')
  }
  for (const [index, want] of expectedPcrs) {
    const got = doc.pcrs.get(index)
    const gotHex = got ? hex(got) : 'absent'
    if (gotHex !== want) throw new AttestationError('attestation_pcr_mismatch', `PCR${index} differs`, { expected: want, actual: gotHex })
  }
  checkBytes('attestation_nonce_mismatch', 'nonce', expectedNonce, doc.nonce)
  checkBytes('attestation_user_data_mismatch', 'user_data', expectedUserData, doc.userData)
  checkBytes('attestation_public_key_mismatch', 'public_key', expectedPublicKey, doc.publicKey)
  return { ...doc, verifiedAt: at, debugMode }
}

function parseRoot(root: string | Uint8Array, cache: CertCache) {
  const remembered = cache.rootFor(root)
  if (remembered) return remembered
  const der = pinnedRootDer(root)
  try {
    const parsed = cache.parse(der, 'pinned root')
    cache.rememberRoot(root, parsed)
    return parsed
  } catch (cause) {
    throw new AttestationError('attestation_options_invalid', 'The pinned root is not a certificate', { cause })
  }
}

function chosenTime(options: VerifyAttestationOptions, timestamp: number): number {
  const { at } = options
  if (at === undefined) return (options.now ?? Date.now)()
  if (at === 'document') return timestamp
  const ms = at instanceof Date ? at.getTime() : at
  if (typeof ms !== 'number' || !Number.isFinite(ms)) optionsInvalid('`at` must be a Date, milliseconds, or "document"')
  return ms
}

function checkBytes(code: 'attestation_nonce_mismatch' | 'attestation_user_data_mismatch' | 'attestation_public_key_mismatch', name: string, expected: string | undefined, actual: Uint8Array | null): void {
  if (expected === undefined) return
  const actualHex = actual === null ? 'null' : hex(actual)
  if (actualHex !== expected) throw new AttestationError(code, `Document ${name} differs from the expected value`, { expected, actual: actualHex })
}

function normalizePcrs(pcrs: Readonly<Record<number, string>> | undefined): Map<number, string> {
  const out = new Map<number, string>()
  for (const [key, value] of Object.entries(pcrs ?? {})) {
    const index = Number(key)
    if (!Number.isInteger(index) || index < 0 || index >= 32) optionsInvalid(`PCR index ${key} out of range 0..31`)
    out.set(index, normalizeHex(value, `PCR${index}`))
  }
  return out
}

function optionalBytes(value: Bytes | undefined, name: string): string | undefined {
  if (value === undefined) return undefined
  return value instanceof Uint8Array ? hex(value) : normalizeHex(value, name)
}

function normalizeHex(value: unknown, name: string): string {
  if (typeof value !== 'string') optionsInvalid(`${name} must be hex`)
  const h = value.startsWith('0x') || value.startsWith('0X') ? value.slice(2) : value
  if (h.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(h)) optionsInvalid(`${name} must be hex`)
  return h.toLowerCase()
}

function isZero(value: Uint8Array | undefined): boolean {
  return value === undefined || value.every((b) => b === 0)
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')
}

function optionsInvalid(reason: string): never {
  throw new AttestationError('attestation_options_invalid', 'Invalid verification options', { details: reason })
}
