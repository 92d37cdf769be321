import type { LocalAccount } from 'viem'
import type { OwnerActType } from './ownerActTypes.js'
import { ownerTypedData } from './ownerTypedData.js'

export type SignOwnerActParameters = {
  account: LocalAccount
  primaryType: OwnerActType
  message: Record<string, unknown>
}

/** Signs an owner act with the owner's EVM key; returns the body the host's /v1/owner/acts expects. */
export async function signOwnerAct(params: SignOwnerActParameters) {
  const td = ownerTypedData(params.primaryType, params.message)
  // biome-ignore lint/suspicious/noExplicitAny: viem's generic typed-data signature
  const signature = await params.account.signTypedData(td as any)
  return { primaryType: params.primaryType, message: JSON.stringify(params.message), signature }
}
