import { type Hex, decodeFunctionData, encodeFunctionData, erc20Abi } from 'viem'

export type Erc20Call =
  | { method: 'transfer'; to: Hex; amount: bigint }
  | { method: 'transferFrom'; from: Hex; to: Hex; amount: bigint }
  | { method: 'approve'; spender: Hex; amount: bigint }

/** Selectors of the ERC-20 calls bursar decodes; any other selector is a generic contract call. */
export const ERC20_SELECTORS: ReadonlySet<string> = new Set(['0xa9059cbb', '0x23b872dd', '0x095ea7b3'])

/**
 * Decodes ERC-20 transfer / transferFrom / approve calldata (lowercase hex
 * with one of ERC20_SELECTORS) and accepts it only if it is exactly the
 * canonical ABI encoding of what was decoded: trailing bytes, dirty address
 * padding or short data give `undefined`.
 */
export function decodeErc20Call(data: Hex): Erc20Call | undefined {
  try {
    const decoded = decodeFunctionData({ abi: erc20Abi, data })
    // SECURITY: re-encode and compare, so no byte the token would see escapes the decoder.
    if (encodeFunctionData({ abi: erc20Abi, ...decoded } as never) !== data) return undefined
    const a = decoded.args as readonly unknown[]
    switch (decoded.functionName) {
      case 'transfer':
        return { method: 'transfer', to: a[0] as Hex, amount: a[1] as bigint }
      case 'transferFrom':
        return { method: 'transferFrom', from: a[0] as Hex, to: a[1] as Hex, amount: a[2] as bigint }
      case 'approve':
        return { method: 'approve', spender: a[0] as Hex, amount: a[1] as bigint }
      default:
        return undefined
    }
  } catch {
    return undefined
  }
}
