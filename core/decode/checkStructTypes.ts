import type { TypedDataJson } from '../../shared/schemas/agentRequest.js'

/**
 * True when `types` declares exactly `expected` (plus an optional
 * EIP712Domain): the same struct names, and for each the same fields in the
 * same order. Money typed data is accepted only in its exact shape.
 */
export function checkStructTypes(types: TypedDataJson['types'], expected: Record<string, readonly { name: string; type: string }[]>): boolean {
  const names = Object.keys(types).filter((n) => n !== 'EIP712Domain')
  if (names.length !== Object.keys(expected).length) return false
  for (const n of names) {
    // Own keys only: a struct named like an Object.prototype member (constructor, toString) matches nothing.
    const want = Object.hasOwn(expected, n) ? expected[n] : undefined
    const got = types[n]
    if (!want || !got || got.length !== want.length) return false
    if (!want.every((f, i) => got[i]?.name === f.name && got[i]?.type === f.type)) return false
  }
  return true
}
