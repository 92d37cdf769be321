import { BaseError } from '../errors/base.js'
import type { ErrorCode } from '../errors/errorCodes.js'

/** Stable codes naming which verification rule refused a document. */
export const ATTESTATION_ERROR_CODES = [
  'attestation_options_invalid',
  'attestation_malformed',
  'attestation_field_invalid',
  'attestation_root_mismatch',
  'attestation_chain_invalid',
  'attestation_cert_expired',
  'attestation_signature_invalid',
  'attestation_too_old',
  'attestation_from_future',
  'attestation_pcr_mismatch',
  'attestation_debug_mode',
  'attestation_nonce_mismatch',
  'attestation_user_data_mismatch',
  'attestation_public_key_mismatch',
] as const satisfies readonly ErrorCode[]

export type AttestationErrorCode = (typeof ATTESTATION_ERROR_CODES)[number]

export type AttestationErrorParameters = {
  details?: string | undefined
  cause?: unknown
  /** What the verifier wanted (hex for byte values). */
  expected?: string | undefined
  /** What the document carried (hex for byte values). */
  actual?: string | undefined
}

/** A refused attestation document; `code` names the rule that failed, `expected`/`actual` say how (qos DifferentUserData style). */
export class AttestationError extends BaseError {
  override name = 'AttestationError'
  override readonly code: AttestationErrorCode
  readonly expected: string | undefined
  readonly actual: string | undefined

  constructor(code: AttestationErrorCode, shortMessage: string, params: AttestationErrorParameters = {}) {
    const metaMessages: string[] = []
    if (params.expected !== undefined) metaMessages.push(`expected: ${params.expected}`)
    if (params.actual !== undefined) metaMessages.push(`actual:   ${params.actual}`)
    super(code, shortMessage, { details: params.details, cause: params.cause, metaMessages })
    this.code = code
    this.expected = params.expected
    this.actual = params.actual
  }
}
