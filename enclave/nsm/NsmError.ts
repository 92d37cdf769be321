import { BaseError, type BaseErrorParameters } from '../../shared/errors/base.js'

export type NsmErrorCode = 'nsm_invalid_request' | 'nsm_error' | 'nsm_bad_response' | 'nsm_unavailable'

/** A failure producing an attestation document (bad request, NSM-reported error, driver or addon missing). */
export class NsmError extends BaseError {
  override name = 'NsmError'
  override readonly code: NsmErrorCode

  constructor(code: NsmErrorCode, shortMessage: string, params: BaseErrorParameters = {}) {
    super(code, shortMessage, params)
    this.code = code
  }
}
