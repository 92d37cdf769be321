import { getAddress } from 'viem'
import type { TypedDataJson } from '../../shared/schemas/agentRequest.js'
import type { TokenRegistryEntry } from '../../shared/schemas/tokenRegistry.js'
import { checkStructTypes, fields } from './checkStructTypes.js'
import { findRegistryEntry } from './findRegistryEntry.js'
import { normalizeEip712Domain } from './normalizeEip712Domain.js'
import { hashTypedJson } from './normalizeTypedMessage.js'
import { type DecodeResult, deny } from './signingPlan.js'

export type DecodeErc2612PermitParameters = { typedData: TypedDataJson; wallet: string; registry: readonly TokenRegistryEntry[] }

const PERMIT = fields('address owner,address spender,uint256 value,uint256 nonce,uint256 deadline')

/** Decodes an EIP-2612 Permit for a registry token (its domain from the registry), signed by the wallet as owner. */
export function decodeErc2612Permit({ typedData, wallet, registry }: DecodeErc2612PermitParameters): DecodeResult {
  const shape = (why: string) => deny('sign_permit_shape_invalid', `Permit: ${why}`)
  if (!checkStructTypes(typedData.types, { Permit: PERMIT })) {
    return deny('sign_kind_unsupported', 'Permit typed data that is not EIP-2612 (owner, spender, value, nonce, deadline)')
  }
  const dom = normalizeEip712Domain(typedData)
  if (!dom.ok) return shape(dom.message)
  const asset = typedData.domain.verifyingContract
  if (dom.chainId === null || !asset) return shape('domain needs chainId and verifyingContract')
  const found = findRegistryEntry({ registry, chainId: dom.chainId, asset, domain: typedData.domain })
  if (!found.ok) return found
  const h = hashTypedJson(typedData, dom.domain, shape)
  if (!h.ok) return h
  const { message: m, digest } = h
  if (String(m.owner).toLowerCase() !== wallet.toLowerCase()) return deny('sign_from_not_wallet', 'Permit owner is not the wallet')
  return {
    ok: true,
    action: {
      kind: 'erc2612_permit',
      chainId: dom.chainId,
      asset: getAddress(asset),
      owner: getAddress(m.owner as string),
      spender: getAddress(m.spender as string),
      amount: String(m.value),
      nonce: String(m.nonce),
      deadline: String(m.deadline),
    },
    plan: { kind: 'typedData', digest },
  }
}
