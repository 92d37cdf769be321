import type { Check, EvalContext } from '../evalTypes.js'

/**
 * A signature with a validity window must be valid now (validFrom ≤ now <
 * validUntil); with `maxSeconds`, it may stay money at most that long
 * (validUntil − now ≤ maxSeconds) — a signature with no end (transactions,
 * allowances without expiry) never passes a rule that bounds validity.
 */
export function checkValidityWindow(maxSeconds: number | undefined, ctx: EvalContext): Check | null {
  const { validFrom, validUntil } = ctx.facts
  const nowSec = Math.floor(ctx.now / 1000)
  if (validFrom !== null && validFrom > nowSec)
    return { name: 'validity', ok: false, code: 'policy_not_yet_valid', message: `valid from ${validFrom}, after now ${nowSec}` }
  if (validUntil !== null && validUntil <= nowSec)
    return { name: 'validity', ok: false, code: 'policy_authorization_expired', message: `valid until ${validUntil}, not after now ${nowSec}` }
  if (maxSeconds === undefined) return validUntil === null && validFrom === null ? null : { name: 'validity', ok: true, message: 'valid now' }
  if (validUntil === null)
    return { name: 'validity', ok: false, code: 'policy_validity_window_too_long', message: `valid with no end, max ${maxSeconds}s` }
  const span = validUntil - nowSec
  if (span > maxSeconds)
    return { name: 'validity', ok: false, code: 'policy_validity_window_too_long', message: `valid for ${span}s, max ${maxSeconds}s` }
  return { name: 'validity', ok: true, message: `valid for ${span}s, max ${maxSeconds}s` }
}
