import type { Check } from '../evalTypes.js'
import type { PolicyCode } from '../policyCodes.js'

/** A condition's outcome: the denial `code` (and what `remaining` is left) are set only when it failed. */
export function checkResult(name: string, ok: boolean, code: PolicyCode, message: string, remaining?: string): Check {
  return ok ? { name, ok, message } : { name, ok, code, ...(remaining === undefined ? {} : { remaining }), message }
}
