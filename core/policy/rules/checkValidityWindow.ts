import type { Check, EvalContext } from '../evalTypes.js'

/**
 * eip3009: validAfter ≤ now < validBefore always; with `maxSeconds`, also
 * validBefore − now ≤ maxSeconds (a signed authorization is money until it expires).
 */
export function checkValidityWindow(maxSeconds: number | undefined, ctx: EvalContext): Check | null {
  const a = ctx.action
  if (a.kind !== 'eip3009') return null
  const nowSec = Math.floor(ctx.now / 1000)
  if (a.validAfter > nowSec)
    return { name: 'validity', ok: false, code: 'policy_not_yet_valid', message: `validAfter ${a.validAfter} is after now ${nowSec}` }
  if (a.validBefore <= nowSec)
    return { name: 'validity', ok: false, code: 'policy_authorization_expired', message: `validBefore ${a.validBefore} is not after now ${nowSec}` }
  const span = a.validBefore - nowSec
  if (maxSeconds !== undefined && span > maxSeconds)
    return { name: 'validity', ok: false, code: 'policy_validity_window_too_long', message: `valid for ${span}s, max ${maxSeconds}s` }
  return { name: 'validity', ok: true, message: `valid for ${span}s${maxSeconds === undefined ? '' : `, max ${maxSeconds}s`}` }
}
