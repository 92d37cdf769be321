import { BaseError, type BaseErrorParameters } from '../../shared/errors/base.js'
import type { ErrorCode } from '../../shared/errors/errorCodes.js'

/** Stable codes for every way sealing or unsealing can fail (sim and KMS sealers, CMS parsing). */
export const SEAL_ERROR_CODES = [
  'seal_options_invalid',
  'seal_key_file_insecure',
  'seal_key_file_invalid',
  'seal_blob_malformed',
  'seal_auth_failed',
  'seal_context_mismatch',
  'seal_version_rollback',
  'seal_attestation_failed',
  'seal_cms_malformed',
  'seal_cms_unsupported',
  'seal_recipient_decrypt_failed',
  'seal_kms_unavailable',
  'seal_kms_denied',
  'seal_kms_key_unusable',
  'seal_kms_response_invalid',
  'seal_kms_error',
] as const satisfies readonly ErrorCode[]

export type SealErrorCode = (typeof SEAL_ERROR_CODES)[number]

/** A refused blob or a failed seal/unseal; `code` names what went wrong, metaMessages say what to do next. */
export class SealError extends BaseError {
  override name = 'SealError'
  override readonly code: SealErrorCode

  constructor(code: SealErrorCode, shortMessage: string, params: BaseErrorParameters = {}) {
    super(code, shortMessage, params)
    this.code = code
  }
}
