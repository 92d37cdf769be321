import { type Hex, getAddress } from 'viem'
import { checkRequirements } from './checkRequirements.js'
import { checksummed } from './checksummed.js'
import { checkStructTypes } from './checkStructTypes.js'
import { findRegistryEntry } from './findRegistryEntry.js'
import { type Eip3009PrimaryType, hashEip3009 } from './hashEip3009.js'
import { normalizeEip712Domain } from './normalizeEip712Domain.js'
import { normalizeTypedMessage } from './normalizeTypedMessage.js'
import { type DecodeResult, deny } from './signingPlan.js'
import { authCaptureAction, bindAuthCapture, isAuthCaptureCollector } from './decodeAuthCapture.js'
import { bindBatchDeposit } from './decodeBatchSettlement.js'
import type { DecodeTypedDataParameters } from './decodeTypedData.js'
import { X402_BATCH_ERC3009_COLLECTOR, X402_BATCH_SETTLEMENT } from './knownContracts.js'
import { EIP3009_FIELDS } from '../../shared/schemas/eip3009Types.js'

export type DecodeEip3009Parameters = DecodeTypedDataParameters & { primaryType: Eip3009PrimaryType }

const DOMAIN_KEYS = ['chainId', 'name', 'verifyingContract', 'version']
const MAX_SECONDS = BigInt(Number.MAX_SAFE_INTEGER)

/**
 * Decodes an EIP-3009 TransferWithAuthorization / ReceiveWithAuthorization
 * (the x402 exact scheme) only in its exact shape, under the registry's
 * domain for its token, signed by the wallet itself.
 */
export function decodeEip3009({ typedData, primaryType, wallet, registry, requirements, channel, authCapture }: DecodeEip3009Parameters): DecodeResult {
  const shape = (why: string) => deny('sign_eip3009_shape_invalid', `${primaryType}: ${why}`)
  // SECURITY: exactly the EIP-3009 types — no extra struct can change what the token contract hashes.
  if (!checkStructTypes(typedData.types, { [primaryType]: EIP3009_FIELDS })) {
    return shape('types are not exactly (EIP712Domain and) address from, address to, uint256 value, uint256 validAfter, uint256 validBefore, bytes32 nonce')
  }
  const dom = normalizeEip712Domain(typedData)
  if (!dom.ok) return shape(dom.message)
  const domainKeys = Object.keys(typedData.domain).sort()
  if (domainKeys.join() !== DOMAIN_KEYS.join() || dom.chainId === null) {
    return shape('domain must have exactly name, version, chainId, verifyingContract')
  }
  const chainId = dom.chainId
  const asset = typedData.domain.verifyingContract!
  const found = findRegistryEntry({ registry, chainId, asset, domain: typedData.domain })
  if (!found.ok) return found
  const entry = found.entry

  // Exactly the six fields, each of its EIP-712 type (the types were checked above).
  const norm = normalizeTypedMessage({ types: typedData.types, primaryType, message: typedData.message })
  if (!norm.ok) return shape(norm.message)
  const { from, to, nonce, value, validAfter, validBefore } = norm.message as { from: string; to: string; nonce: string; value: bigint; validAfter: bigint; validBefore: bigint }
  if (validAfter > MAX_SECONDS || validBefore > MAX_SECONDS) return shape('validAfter and validBefore must be times in seconds (≤ 2^53 − 1)')
  // SECURITY: the wallet only authorizes moving its own funds.
  if (from.toLowerCase() !== wallet.toLowerCase()) return deny('sign_from_not_wallet', 'Authorization from is not the wallet')

  // x402 batch-settlement: a receive authorization to the escrow's deposit collector is a deposit into one channel.
  // x402 auth-capture: a receive authorization to an escrow's token collector is an authorization for a PaymentInfo.
  const deposit = to.toLowerCase() === X402_BATCH_ERC3009_COLLECTOR
  const auth = isAuthCaptureCollector(to, false)
  if ((deposit || auth) && primaryType !== 'ReceiveWithAuthorization') return shape('an authorization to an x402 escrow collector is a ReceiveWithAuthorization')
  const bound = deposit ? bindBatchDeposit({ channel, wallet, chainId, asset, nonce, requirements }) : null
  if (bound && !bound.ok) return bound
  const held = auth ? bindAuthCapture({ p: authCapture, collector: to.toLowerCase(), chainId, asset, value, validBefore, nonce, requirements }) : null
  if (held && !held.ok) return held
  const denied = deposit || auth ? undefined : checkRequirements({ requirements, chainId, payment: { asset, payTo: to, amount: value, scheme: 'exact', entry } })
  if (denied) return denied

  const digest = hashEip3009({
    entry,
    primaryType,
    from: from as Hex,
    to: to as Hex,
    value,
    validAfter,
    validBefore,
    nonce: nonce as Hex,
  })
  const plan = { kind: 'typedData', digest } as const
  if (held?.ok) return { ok: true, action: authCaptureAction(held, { chainId, asset, amount: value, validAfter: Number(validAfter), nonce }), plan }
  if (bound?.ok) {
    const [validFrom, validTo] = [Number(validAfter), Number(validBefore)]
    const action = { kind: 'batch_deposit', chainId, asset: bound.token, amount: value.toString(), channelId: bound.id, receiver: bound.receiver, escrow: getAddress(X402_BATCH_SETTLEMENT), validAfter: validFrom, validBefore: validTo, nonce: nonce.toLowerCase() } as const
    return { ok: true, action, plan }
  }
  return {
    ok: true,
    action: {
      kind: 'eip3009',
      primaryType,
      chainId,
      asset: checksummed(asset),
      amount: value.toString(),
      payTo: checksummed(to),
      from: checksummed(from),
      validAfter: Number(validAfter),
      validBefore: Number(validBefore),
      nonce: nonce.toLowerCase(),
    },
    plan,
  }
}
