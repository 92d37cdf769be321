/**
 * Evaluates an `{ in }` / `{ notIn }` predicate. A value the action does not
 * have (null) never satisfies `in`; it satisfies `notIn` in allow rules only
 * (a deny rule never matches on a field the action lacks).
 */
export function matchSet<T>(set: { in: readonly T[] } | { notIn: readonly T[] }, value: T | null, mode: 'allow' | 'deny', eq: (a: T, b: T) => boolean): boolean {
  if ('in' in set) return value !== null && set.in.some((x) => eq(x, value))
  if (value === null) return mode === 'allow'
  return !set.notIn.some((x) => eq(x, value))
}
