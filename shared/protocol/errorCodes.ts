import { ERROR_CODES, type ErrorCode } from '../errors/errorCodes.js'

/** Every error code by name (`C.request_stale`), derived from THE table in shared/errors/errorCodes.ts. */
export const PROTOCOL_ERROR_CODES = Object.fromEntries(Object.keys(ERROR_CODES).map((k) => [k, k])) as { readonly [K in ErrorCode]: K }
export type ProtocolErrorCode = ErrorCode
