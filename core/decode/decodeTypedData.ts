import { getAddress } from 'viem'
import type { TypedDataJson } from '../../shared/schemas/agentRequest.js'
import type { TokenRegistryEntry } from '../../shared/schemas/tokenRegistry.js'
import { type X402Requirements, checkRequirements } from './checkRequirements.js'
import { decodeEip3009 } from './decodeEip3009.js'
import { decodeErc2612Permit } from './decodeErc2612Permit.js'
import { decodePermit2 } from './decodePermit2.js'
import type { AuthCapturePayment } from './decodeAuthCapture.js'
import { type BatchChannel, decodeBatchVoucher } from './decodeBatchSettlement.js'
import { MONEY_PRIMARY_TYPES, PERMIT2_ADDRESS, X402_BATCH_SETTLEMENT } from './knownContracts.js'
import { normalizeEip712Domain } from './normalizeEip712Domain.js'
import { hashTypedJson } from './normalizeTypedMessage.js'
import { type DecodeResult, deny } from './signingPlan.js'

export type DecodeTypedDataParameters = {
  typedData: TypedDataJson
  wallet: string
  registry: readonly TokenRegistryEntry[]
  requirements: X402Requirements | undefined
  /** x402 batch-settlement: the channel a voucher or a deposit to the canonical collector is for. */
  channel?: BatchChannel | undefined
  /** x402 auth-capture: the PaymentInfo an authorization to an escrow's collector is for. */
  authCapture?: AuthCapturePayment | undefined
}

/**
 * Decodes EIP-712 typed data: EIP-3009 authorizations, Permit2 transfers and
 * allowances and EIP-2612 permits strictly (each a kind that counts what it
 * lets someone take); other money-moving shapes are refused; anything else is
 * generic typed data after full validation. The digest is computed here.
 */
export function decodeTypedData({ typedData, wallet, registry, requirements, channel, authCapture }: DecodeTypedDataParameters): DecodeResult {
  const { primaryType } = typedData
  if (primaryType === 'TransferWithAuthorization' || primaryType === 'ReceiveWithAuthorization') {
    return decodeEip3009({ typedData, primaryType, wallet, registry, requirements, channel, authCapture })
  }
  const vc = typedData.domain.verifyingContract?.toLowerCase()
  // SECURITY: anything for the batch-settlement escrow is a voucher of a bound channel, or refused.
  if (vc === X402_BATCH_SETTLEMENT || typedData.domain.name === 'x402 Batch Settlement') return decodeBatchVoucher({ typedData, wallet, channel, requirements })
  if (vc === PERMIT2_ADDRESS || typedData.domain.name === 'Permit2') return decodePermit2({ typedData, requirements, wallet, channel, authCapture })
  if (primaryType === 'Permit') return decodeErc2612Permit({ typedData, wallet, registry })
  // SECURITY: anything else that moves funds, or any typed data for a registry token, is a kind or refused.
  if (MONEY_PRIMARY_TYPES.has(primaryType)) {
    return deny('sign_kind_unsupported', `${primaryType} is not a supported way to move funds`)
  }
  if (vc !== undefined && registry.some((t) => t.asset.toLowerCase() === vc)) {
    return deny('sign_token_action_unknown', `Typed data for token ${vc} is not a known token action`)
  }
  const malformed = (why: string) => deny('sign_typed_data_malformed', why)
  const dom = normalizeEip712Domain(typedData)
  if (!dom.ok) return malformed(dom.message)
  const h = hashTypedJson(typedData, dom.domain, malformed)
  if (!h.ok) return h
  const denied = dom.chainId === null ? undefined : checkRequirements({ requirements, chainId: dom.chainId })
  if (denied) return denied
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
      typedData,
    },
    plan: { kind: 'typedData', digest: h.digest },
  }
}
