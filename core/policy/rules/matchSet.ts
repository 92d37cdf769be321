/**
 * Evaluates an `{ in }` / `{ notIn }` predicate over the values an action has
 * for a field (several for e.g. payees). An allow rule's predicate holds when
 * every value passes (`in` also needs at least one value); a deny rule's holds
 * when any value is caught (a deny rule never matches on a field the action
 * lacks).
 */
export function matchSet<T>(set: { in: readonly T[] } | { notIn: readonly T[] }, values: readonly T[], mode: 'allow' | 'deny', eq: (a: T, b: T) => boolean): boolean {
  const listed = (v: T) => ('in' in set ? set.in : set.notIn).some((x) => eq(x, v))
  if ('in' in set) return mode === 'allow' ? values.length > 0 && values.every(listed) : values.some(listed)
  return mode === 'allow' ? !values.some(listed) : values.some((v) => !listed(v))
}
