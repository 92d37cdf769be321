import type { ErrorCode } from '../../shared/errors/errorCodes.js'

/** The decoder's refusal codes: the `sign_*` rows of THE error-code table (shared/errors/errorCodes.ts). */
export type SignCode = Extract<ErrorCode, `sign_${string}`>
