import type { Check, EvalContext } from '../evalTypes.js'

/** Personal messages: no longer than maxMessageLength bytes (when set). */
export function checkMessageLength(max: number | undefined, ctx: EvalContext): Check | null {
  const len = ctx.facts.messageLength
  if (len === null || max === undefined) return null
  const ok = len <= max
  return {
    name: 'maxMessageLength',
    ok,
    ...(ok ? {} : { code: 'policy_message_too_long' as const }),
    message: `message of ${len} bytes, max ${max}`,
  }
}
