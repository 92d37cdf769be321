const UNSIGNED = /^(0|[1-9][0-9]{0,77})$/
const SIGNED = /^(0|-?[1-9][0-9]{0,77})$/

export type ParseEip712IntegerParameters = { signed: boolean; bits: number }

/**
 * Parses a JSON integer strictly (a safe-integer number, or a canonical
 * decimal string: digits only, no sign unless signed, no leading zeros) and
 * range-checks it for `uint<bits>` / `int<bits>`; `undefined` if it is not one.
 */
export function parseEip712Integer(value: unknown, { signed, bits }: ParseEip712IntegerParameters): bigint | undefined {
  let n: bigint
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) return undefined
    n = BigInt(value)
  } else if (typeof value === 'string') {
    if (!(signed ? SIGNED : UNSIGNED).test(value)) return undefined
    n = BigInt(value)
  } else return undefined
  const max = signed ? (1n << BigInt(bits - 1)) - 1n : (1n << BigInt(bits)) - 1n
  const min = signed ? -(1n << BigInt(bits - 1)) : 0n
  return n < min || n > max ? undefined : n
}
