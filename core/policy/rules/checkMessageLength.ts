import type { Check, EvalContext } from '../evalTypes.js'

/** raw_message: the message must be no longer than maxMessageLength bytes (when set). */
export function checkMessageLength(max: number | undefined, ctx: EvalContext): Check | null {
  if (ctx.action.kind !== 'raw_message' || max === undefined) return null
  const ok = ctx.action.length <= max
  return {
    name: 'maxMessageLength',
    ok,
    ...(ok ? {} : { code: 'policy_message_too_long' as const }),
    message: `message of ${ctx.action.length} bytes, max ${max}`,
  }
}
