import type { Check, EvalContext } from '../evalTypes.js'
import { checkResult } from './checkResult.js'

/** Personal messages: no longer than maxMessageLength bytes (when set). */
export function checkMessageLength(max: number | undefined, ctx: EvalContext): Check | null {
  const len = ctx.facts.messageLength
  if (len === null || max === undefined) return null
  return checkResult('maxMessageLength', len <= max, 'policy_message_too_long', `message of ${len} bytes, max ${max}`)
}
