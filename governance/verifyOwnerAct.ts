import { recoverTypedDataAddress } from 'viem'
import { EnclaveError } from '../shared/errors/EnclaveError.js'
import { OwnerActMessageSchemas, type VerifiedOwnerAct, isOwnerActType } from '../shared/owner/ownerActTypes.js'
import { ownerTypedData } from '../shared/owner/ownerTypedData.js'

export type { VerifiedOwnerAct }

/**
 * Parses an owner act against bursar's fixed EIP-712 types and recovers who
 * signed it. SECURITY: the typed data is rebuilt from the fixed types, so the
 * host cannot make the owner's signature mean something else.
 */
export async function verifyOwnerAct(params: { primaryType: string; message: string; signature: string }): Promise<VerifiedOwnerAct> {
  if (!isOwnerActType(params.primaryType)) {
    throw new EnclaveError('owner_act_invalid', `Unknown owner act ${params.primaryType.slice(0, 64)}`)
  }
  let json: unknown
  try {
    json = JSON.parse(params.message)
  } catch {
    throw new EnclaveError('owner_act_invalid', 'Owner act message is not JSON')
  }
  // gov36: a new wallet's act names the enclave's audit chain; one signed by older tools gets the code that says so.
  if (/^(Create|Import)Wallet$/.test(params.primaryType) && json && typeof json === 'object' && !('auditChain' in json)) throw new EnclaveError('owner_act_wrong_chain', `${params.primaryType} names no audit chain (signed by tools older than gov36): sign a fresh one`)
  const parsed = OwnerActMessageSchemas[params.primaryType].safeParse(json)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    throw new EnclaveError('owner_act_invalid', `Owner act ${params.primaryType}: ${issue?.path.join('.')} ${issue?.message}`)
  }
  let signer: `0x${string}`
  try {
    const td = ownerTypedData(params.primaryType, parsed.data as Record<string, unknown>)
    // biome-ignore lint/suspicious/noExplicitAny: fixed types built above
    signer = await recoverTypedDataAddress({ ...(td as any), signature: params.signature as `0x${string}` })
  } catch (cause) {
    throw new EnclaveError('owner_signature_invalid', 'Owner signature does not recover', { cause })
  }
  return { primaryType: params.primaryType, message: parsed.data, signer } as VerifiedOwnerAct
}
