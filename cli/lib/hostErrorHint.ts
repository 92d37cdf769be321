import { errorHint } from '../../shared/errors/errorCodes.js'

/** What the owner can do about a refusal from the host or enclave, by code (from THE error-code table). */
export function hostErrorHint(code: string): string | undefined {
  return errorHint(code)
}
