import type { TypedDataJson } from '../../shared/schemas/agentRequest.js'

/** A struct's fields from its EIP-712 field list as written in the type string: `fields('address to,uint256 value')`. */
export const fields = (list: string) => list.split(',').map((f) => ({ name: f.split(' ')[1]!, type: f.split(' ')[0]! }))
type Field = { readonly name: string; readonly type: string }
/** The same fields (name and type) in the same order. */
export const sameFields = (got: readonly Field[], want: readonly Field[]) => got.length === want.length && want.every((f, i) => got[i]?.name === f.name && got[i]?.type === f.type)

/**
 * True when `types` declares exactly `expected` (plus an optional
 * EIP712Domain): the same struct names, and for each the same fields in the
 * same order. Money typed data is accepted only in its exact shape.
 */
export function checkStructTypes(types: TypedDataJson['types'], expected: Record<string, readonly Field[]>): boolean {
  const names = Object.keys(types).filter((n) => n !== 'EIP712Domain')
  if (names.length !== Object.keys(expected).length) return false
  for (const n of names) {
    // Own keys only: a struct named like an Object.prototype member (constructor, toString) matches nothing.
    const want = Object.hasOwn(expected, n) ? expected[n] : undefined
    const got = types[n]
    if (!want || !got || !sameFields(got, want)) return false
  }
  return true
}
