import { type Hex, decodeFunctionData, encodeFunctionData, parseAbi } from 'viem'

export type TokenCall =
  | { method: 'transfer'; to: Hex; amount: bigint }
  | { method: 'transferFrom'; from: Hex; to: Hex; amount: bigint }
  | { method: 'approve' | 'increaseAllowance' | 'decreaseAllowance'; spender: Hex; amount: bigint }
  | { method: 'permit2Approve'; token: Hex; spender: Hex; amount: bigint; expiration: number }

const TOKEN_ABI = parseAbi([
  'function transfer(address to, uint256 amount)',
  'function transferFrom(address from, address to, uint256 amount)',
  'function approve(address spender, uint256 amount)',
  'function increaseAllowance(address spender, uint256 addedValue)',
  'function decreaseAllowance(address spender, uint256 subtractedValue)',
])
const PERMIT2_ABI = parseAbi(['function approve(address token, address spender, uint160 amount, uint48 expiration)'])

/** Selectors of the ERC-20 calls bursar decodes as token actions (on any contract). */
export const ERC20_SELECTORS: ReadonlySet<string> = new Set(['0xa9059cbb', '0x23b872dd', '0x095ea7b3', '0x39509351', '0xa457c2d7'])
/**
 * Token functions that move or allow funds but are not decoded as an action
 * of this wallet (EIP-3009 transfer/receive/cancel, EIP-2612 permit, DAI
 * permit): a transaction calling one of them is refused, on any contract.
 */
export const UNSUPPORTED_TOKEN_SELECTORS: ReadonlySet<string> = new Set([
  '0xe3ee160e', // transferWithAuthorization(address,address,uint256,uint256,uint256,bytes32,uint8,bytes32,bytes32)
  '0xcf092995', // transferWithAuthorization(address,address,uint256,uint256,uint256,bytes32,bytes)
  '0xef55bec6', // receiveWithAuthorization(…,uint8,bytes32,bytes32)
  '0x88b7ab63', // receiveWithAuthorization(…,bytes)
  '0x5a049a70', // cancelAuthorization(address,bytes32,uint8,bytes32,bytes32)
  '0xd505accf', // permit(address,address,uint256,uint256,uint8,bytes32,bytes32)
  '0x8fcbaf0c', // permit(address,address,uint256,uint256,bool,uint8,bytes32,bytes32) (DAI)
])

function exact<T>(abi: readonly unknown[], data: Hex, pick: (name: string, a: readonly unknown[]) => T | undefined): T | undefined {
  try {
    const decoded = decodeFunctionData({ abi: abi as never, data })
    // SECURITY: re-encode and compare, so no byte the contract would see escapes the decoder.
    if (encodeFunctionData({ abi: abi as never, ...(decoded as object) } as never) !== data) return undefined
    return pick(decoded.functionName as string, (decoded.args ?? []) as readonly unknown[])
  } catch {
    return undefined
  }
}

/**
 * Decodes ERC-20 transfer / transferFrom / approve / increaseAllowance /
 * decreaseAllowance calldata (lowercase hex) only if it is exactly the
 * canonical ABI encoding: trailing bytes, dirty padding or short data give
 * `undefined`.
 */
export function decodeErc20Call(data: Hex): Exclude<TokenCall, { method: 'permit2Approve' }> | undefined {
  return exact<Exclude<TokenCall, { method: 'permit2Approve' }>>(TOKEN_ABI, data, (name, a) => {
    if (name === 'transfer') return { method: 'transfer', to: a[0] as Hex, amount: a[1] as bigint }
    if (name === 'transferFrom') return { method: 'transferFrom', from: a[0] as Hex, to: a[1] as Hex, amount: a[2] as bigint }
    if (name === 'approve' || name === 'increaseAllowance' || name === 'decreaseAllowance')
      return { method: name, spender: a[0] as Hex, amount: a[1] as bigint }
    return undefined
  })
}

/** Decodes Permit2.approve(token, spender, amount, expiration) calldata, canonical encoding only. */
export function decodePermit2Call(data: Hex): TokenCall | undefined {
  return exact(PERMIT2_ABI, data, (name, a) =>
    name === 'approve'
      ? { method: 'permit2Approve', token: a[0] as Hex, spender: a[1] as Hex, amount: a[2] as bigint, expiration: Number(a[3]) }
      : undefined,
  )
}
