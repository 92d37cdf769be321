import { codedError } from '../errors/base.js'
import type { AuditCode } from './auditCodes.js'

/** Thrown for bad input to the audit library (never for a broken log: that is a verdict). */
export const AuditError = codedError<AuditCode>('AuditError')
export type AuditError = InstanceType<typeof AuditError>
