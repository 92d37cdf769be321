/**
 * Issue 18 (host34): the pieces of the host's exact checks of enclave answers (exactResponseFrame.ts,
 * exactAgentSigned.ts, exactCheckpoint.ts). Each says only "certainly this shape" (a value) or "not sure" (null): a
 * caller that gets null runs the zod schema, which decides. So nothing zod refuses is accepted, and what is accepted
 * is built as zod builds it: objects with the schema's keys in the schema's order (the frame codec sorts map keys,
 * zod's output follows the shape: the stored and sent answer text is JSON of that order).
 */

const enumerable = Object.prototype.propertyIsEnumerable

/**
 * A plain object (what the frame decoder builds) whose own enumerable keys are exactly the `required` ones and some of
 * the `optional` ones, in any order, none of them undefined (zod keeps a present undefined key; the decoder never makes
 * one: not sure, let zod say).
 */
export function hasExactKeys(v: unknown, required: readonly string[], optional: readonly string[]): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Object.getPrototypeOf(v) !== Object.prototype) return false
  const o = v as Record<string, unknown>
  let present = 0
  for (const k of required) {
    if (!enumerable.call(o, k) || o[k] === undefined) return false
    present++
  }
  for (const k of optional) {
    if (!enumerable.call(o, k)) continue
    if (o[k] === undefined) return false
    present++
  }
  // Another key (zod's strict objects refuse unknown keys; it also sees inherited enumerable ones: the prototype is Object's).
  return present === Object.keys(o).length
}

/** zod's `z.number().int()`. */
export const isInt = (v: unknown): v is number => Number.isSafeInteger(v)

/** zod's `z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER)`. */
export const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0

/** zod's `z.string().regex(re)` (re has no g/y flag: test keeps no state). */
export const matches = (v: unknown, re: RegExp): v is string => typeof v === 'string' && re.test(v)
