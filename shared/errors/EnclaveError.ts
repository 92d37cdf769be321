import { BaseError, type BaseErrorParameters } from './base.js'
import type { ErrorCode } from './errorCodes.js'

/** A refusal or failure inside the enclave that is reported to the host as `{ code, message }`. */
export class EnclaveError extends BaseError {
  override name = 'EnclaveError'
  readonly extra: { rule?: string; remaining?: string; pendingId?: string; retryAfterMs?: number }

  constructor(
    code: ErrorCode,
    shortMessage: string,
    params: BaseErrorParameters & { extra?: EnclaveError['extra'] } = {},
  ) {
    super(code, shortMessage, params)
    this.extra = params.extra ?? {}
  }
}
