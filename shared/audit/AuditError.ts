import { BaseError, type BaseErrorParameters } from '../errors/base.js'
import type { AuditCode } from './auditCodes.js'

/** Thrown for bad input to the audit library (never for a broken log: that is a verdict). */
export class AuditError extends BaseError {
  override name = 'AuditError'
  constructor(code: AuditCode, shortMessage: string, params?: BaseErrorParameters) {
    super(code, shortMessage, params)
  }
}
