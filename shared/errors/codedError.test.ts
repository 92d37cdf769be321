import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { NsmError, type NsmErrorCode } from '../../enclave/nsm/NsmError.js'
import { SealError, type SealErrorCode } from '../../enclave/seal/SealError.js'
import { AuditError } from '../audit/AuditError.js'
import type { AuditCode } from '../audit/auditCodes.js'
import { BaseError, type BaseErrorParameters } from './base.js'
import { ERROR_CODES, type ErrorCode } from './errorCodes.js'

/** diet12c: the class body NsmError, SealError and AuditError each had, verbatim: the reference codedError must match. */
function oldClass<C extends ErrorCode>(name: string) {
  const Old = class extends BaseError {
    override name = name
    override readonly code: C
    constructor(code: C, shortMessage: string, params: BaseErrorParameters = {}) {
      super(code, shortMessage, params)
      this.code = code
    }
  }
  return Object.defineProperty(Old, 'name', { value: name })
}

const view = (e: BaseError) => ({
  keys: Object.keys(e),
  own: Object.fromEntries(Object.entries(e)),
  name: e.name,
  ctor: e.constructor.name,
  message: e.message,
  stackHead: String(e.stack).split('\n')[0],
  cause: e.cause,
  hasCause: Object.hasOwn(e, 'cause'),
  wire: e.toWire(),
  walked: e.walk(),
  base: e instanceof BaseError && e instanceof Error,
})

const codes = (prefix: string) => Object.keys(ERROR_CODES).filter((c) => c.startsWith(prefix))
const params = fc.record(
  { details: fc.option(fc.string(), { nil: undefined }), metaMessages: fc.option(fc.array(fc.string(), { maxLength: 2 }), { nil: undefined }), cause: fc.option(fc.string(), { nil: undefined }) },
  { requiredKeys: [] },
)

describe('codedError (diet12c) against the three hand-written error classes it replaced', () => {
  for (const [New, name, prefix] of [
    [SealError, 'SealError', 'seal_'],
    [NsmError, 'NsmError', 'nsm_'],
    [AuditError, 'AuditError', 'audit_'],
  ] as const) {
    it(`${name}: same fields, message, name, wire form and cause as the old class`, () => {
      const Old = oldClass<ErrorCode>(name)
      const all = codes(prefix)
      expect(all.length).toBeGreaterThan(0)
      fc.assert(
        fc.property(fc.constantFrom(...(all as ErrorCode[])), fc.string(), fc.option(params, { nil: undefined }), (code, msg, p) => {
          const Ctor = New as unknown as new (c: string, m: string, p?: BaseErrorParameters) => BaseError
          expect(view(new Ctor(code, msg, p))).toEqual(view(new Old(code, msg, p)))
        }),
        { numRuns: 300 },
      )
    })
  }

  it('each is its own class: instanceof tells them apart, as before', () => {
    const s = new SealError('seal_auth_failed' satisfies SealErrorCode, 'x')
    const n = new NsmError('nsm_error' satisfies NsmErrorCode, 'y')
    const a = new AuditError('audit_bad_entry' satisfies AuditCode, 'z')
    expect([s instanceof SealError, s instanceof NsmError, s instanceof AuditError]).toEqual([true, false, false])
    expect([n instanceof NsmError, n instanceof SealError, a instanceof AuditError, a instanceof SealError]).toEqual([true, false, true, false])
  })
})
