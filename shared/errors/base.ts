import type { ErrorCode } from './errorCodes.js'

/** Root of every bursar error: a stable snake_case `code`, a short human message, optional details and cause (viem style). */
export type BaseErrorParameters = {
  details?: string | undefined
  metaMessages?: string[] | undefined
  cause?: unknown
}

export class BaseError extends Error {
  override name = 'BursarError'
  readonly code: ErrorCode
  readonly shortMessage: string
  readonly details: string | undefined
  readonly metaMessages: string[] | undefined

  constructor(code: ErrorCode, shortMessage: string, params: BaseErrorParameters = {}) {
    const lines = [shortMessage]
    if (params.metaMessages?.length) lines.push('', ...params.metaMessages)
    if (params.details) lines.push('', `Details: ${params.details}`)
    super(lines.join('\n'), params.cause === undefined ? undefined : { cause: params.cause })
    this.code = code
    this.shortMessage = shortMessage
    this.details = params.details
    this.metaMessages = params.metaMessages
  }

  /** Walks the cause chain; returns the first error matching `fn`, or the deepest one. */
  walk(fn?: (err: unknown) => boolean): unknown {
    let err: unknown = this
    while (err instanceof Error) {
      if (fn?.(err)) return err
      if (err.cause === undefined) break
      err = err.cause
    }
    return fn ? null : err
  }

  /** What may cross a trust boundary: the code and short message only. */
  toWire(): { code: ErrorCode; message: string } {
    return { code: this.code, message: this.shortMessage }
  }
}

/**
 * A BaseError subclass whose `code` is narrowed to one family of the error table (NsmError, SealError, AuditError):
 * the one body those classes shared (diet12c). Each call makes its own class, so `instanceof` tells them apart.
 */
export function codedError<C extends ErrorCode>(name: string) {
  const Coded = class extends BaseError {
    declare readonly code: C
    constructor(code: C, shortMessage: string, params: BaseErrorParameters = {}) {
      super(code, shortMessage, params)
      this.name = name
    }
  }
  return Object.defineProperty(Coded, 'name', { value: name }) // the class's own name too, as `class SealError` had
}
