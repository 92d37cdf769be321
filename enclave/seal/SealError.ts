import { BaseError, type BaseErrorParameters } from '../../shared/errors/base.js'
import type { ErrorCode } from '../../shared/errors/errorCodes.js'

/** Every way sealing or unsealing can fail (sim and KMS sealers, CMS parsing): the seal_* codes of the error table. */
export type SealErrorCode = Extract<ErrorCode, `seal_${string}`>

/** A refused blob or a failed seal/unseal; `code` names what went wrong, the error table's hint what to do next. */
export class SealError extends BaseError {
  override name = 'SealError'
  override readonly code: SealErrorCode

  constructor(code: SealErrorCode, shortMessage: string, params: BaseErrorParameters = {}) {
    super(code, shortMessage, params)
    this.code = code
  }
}
