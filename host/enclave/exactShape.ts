/**
 * Issue 18 (host34): the pieces of the host's exact checks of enclave answers (exactResponseFrame.ts,
 * exactAgentSigned.ts, exactCheckpoint.ts). Each says only "certainly this shape" (a value) or "not sure" (null): a
 * caller that gets null runs the zod schema, which decides. So nothing zod refuses is accepted, and what is accepted
 * is built as zod builds it: objects with the schema's keys in the schema's order (the frame codec sorts map keys,
 * zod's output follows the shape: the stored and sent answer text is JSON of that order).
 */

/**
 * A plain object (what the frame decoder builds) whose own enumerable keys are exactly the `required` ones and some of
 * the `optional` ones, in any order, none of them undefined (zod keeps a present undefined key; the decoder never makes
 * one: not sure, let zod say).
 *
 * host40: one `for…in` over the object's keys (no key array, no `propertyIsEnumerable` per schema key). With Object's
 * prototype as the object's and no enumerable key on it (checked each call: a polluted prototype is "not sure"),
 * `for…in` visits exactly the own enumerable keys, each once: every one must be a schema key whose value is not
 * undefined, and every required key must be among them.
 */
export function hasExactKeys(v: unknown, required: readonly string[], optional: readonly string[]): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Object.getPrototypeOf(v) !== Object.prototype) return false
  for (const _ in Object.prototype) return false
  const o = v as Record<string, unknown>
  let found = 0
  for (const k in o) {
    if (required.includes(k)) found++
    else if (!optional.includes(k)) return false // another key (zod's strict objects refuse unknown keys)
    if (o[k] === undefined) return false
  }
  return found === required.length
}

/** zod's `z.number().int()`. */
export const isInt = (v: unknown): v is number => Number.isSafeInteger(v)

/** zod's `z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER)`. */
export const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0

/** zod's `z.string().regex(re)` (re has no g/y flag: test keeps no state). */
export const matches = (v: unknown, re: RegExp): v is string => typeof v === 'string' && re.test(v)
