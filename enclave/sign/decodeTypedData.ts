import { type TypedDataDefinition, getAddress, hashTypedData } from 'viem'
import type { TypedDataJson } from '../../shared/schemas/agentRequest.js'
import type { TokenRegistryEntry } from '../../shared/schemas/tokenRegistry.js'
import { type X402Requirements, checkRequirements } from './checkRequirements.js'
import { decodeEip3009 } from './decodeEip3009.js'
import { normalizeEip712Domain } from './normalizeEip712Domain.js'
import { normalizeTypedMessage } from './normalizeTypedMessage.js'
import { type DecodeResult, deny } from './signingPlan.js'

export type DecodeTypedDataParameters = {
  typedData: TypedDataJson
  wallet: string
  registry: readonly TokenRegistryEntry[]
  requirements: X402Requirements | undefined
}

/**
 * Decodes EIP-712 typed data: EIP-3009 authorizations strictly (as x402
 * payments), anything else as generic typed data after full validation, with
 * the digest computed here from the validated structure.
 */
export function decodeTypedData({ typedData, wallet, registry, requirements }: DecodeTypedDataParameters): DecodeResult {
  const { primaryType } = typedData
  if (primaryType === 'TransferWithAuthorization' || primaryType === 'ReceiveWithAuthorization') {
    return decodeEip3009({ typedData, primaryType, wallet, registry, requirements })
  }
  const malformed = (why: string) => deny('sign_typed_data_malformed', why)
  const dom = normalizeEip712Domain(typedData)
  if (!dom.ok) return malformed(dom.message)
  const msg = normalizeTypedMessage({ types: typedData.types, primaryType, message: typedData.message })
  if (!msg.ok) return malformed(msg.message)
  if (dom.chainId !== null) {
    const denied = checkRequirements({ requirements, chainId: dom.chainId })
    if (denied) return denied
  }
  let digest: `0x${string}`
  try {
    // viem validates again (types, references, sizes) and hashes; any throw is a refusal.
    digest = hashTypedData({
      domain: dom.domain,
      types: typedData.types,
      primaryType,
      message: msg.message,
    } as unknown as TypedDataDefinition)
  } catch {
    return malformed('typed data does not hash under EIP-712')
  }
  const d = typedData.domain
  return {
    ok: true,
    action: {
      kind: 'typed_data',
      chainId: dom.chainId,
      verifyingContract: d.verifyingContract === undefined ? null : getAddress(d.verifyingContract),
      domainName: d.name ?? null,
      domainVersion: d.version ?? null,
      primaryType,
    },
    plan: { kind: 'typedData', digest },
  }
}
