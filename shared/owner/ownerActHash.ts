import { hashTypedData } from 'viem'
import type { OwnerActType } from './ownerActTypes.js'
import { ownerTypedData } from './ownerTypedData.js'

/** The EIP-712 digest of an owner act (what a receipt's and a proposal's `actHash` carry). */
export function ownerActHash(primaryType: OwnerActType, message: Record<string, unknown>): `0x${string}` {
  // biome-ignore lint/suspicious/noExplicitAny: fixed types from ownerTypedData
  return hashTypedData(ownerTypedData(primaryType, message) as any)
}
