import { codedError } from '../../shared/errors/base.js'
import type { ErrorCode } from '../../shared/errors/errorCodes.js'

/** Every way sealing or unsealing can fail (sim and KMS sealers, CMS parsing): the seal_* codes of the error table. */
export type SealErrorCode = Extract<ErrorCode, `seal_${string}`>

/** A refused blob or a failed seal/unseal; `code` names what went wrong, the error table's hint what to do next. */
export const SealError = codedError<SealErrorCode>('SealError')
export type SealError = InstanceType<typeof SealError>
