import { type Hex, type TypedDataDefinition, encodeAbiParameters, getAddress, hashTypedData, keccak256 } from 'viem'
import type { AgentRequest, TypedDataJson } from '../../shared/schemas/agentRequest.js'
import { type X402Requirements, checkRequirements } from './checkRequirements.js'
import { checkStructTypes, fields } from './checkStructTypes.js'
import { X402_BATCH_SETTLEMENT } from './knownContracts.js'
import { normalizeEip712Domain } from './normalizeEip712Domain.js'
import { hashTypedJson } from './normalizeTypedMessage.js'
import { type DecodeResult, type SignDenial, deny } from './signingPlan.js'

export type BatchChannel = NonNullable<NonNullable<AgentRequest['context']>['batchChannel']>

const ZERO = '0x0000000000000000000000000000000000000000'
const CHANNEL_TYPES = { ChannelConfig: fields('address payer,address payerAuthorizer,address receiver,address receiverAuthorizer,address token,uint40 withdrawDelay,bytes32 salt') }
const VOUCHER = fields('bytes32 channelId,uint128 maxClaimableAmount')
const domainOf = (chainId: number) => ({ name: 'x402 Batch Settlement', version: '1', chainId, verifyingContract: getAddress(X402_BATCH_SETTLEMENT) })

type Bound = { ok: true; id: Hex; receiver: `0x${string}`; token: `0x${string}` }

/**
 * Binds the channel the agent names to what is signed: its id is recomputed here (EIP-712 hash of the ChannelConfig
 * under the escrow's domain). SECURITY: the payer is the wallet and vouchers for it are signed only by the wallet
 * (payerAuthorizer = the wallet, or zero = the payer itself), so every claim on its funds passes through this enclave.
 */
export function bindBatchChannel(ch: BatchChannel | undefined, wallet: string, chainId: number, requirements: X402Requirements | undefined): Bound | SignDenial {
  const bad = (why: string) => deny('sign_batch_channel_invalid', `batch-settlement channel: ${why}`)
  if (!ch) return bad('a voucher or deposit needs its channel config (context.batchChannel)')
  const c = ch.config
  const w = wallet.toLowerCase()
  if (c.payer.toLowerCase() !== w) return bad('payer is not the wallet')
  if (c.payerAuthorizer.toLowerCase() !== w && c.payerAuthorizer !== ZERO) return bad('payerAuthorizer is neither the wallet nor zero')
  const id = hashTypedData({ domain: domainOf(chainId), types: CHANNEL_TYPES, primaryType: 'ChannelConfig', message: c } as unknown as TypedDataDefinition)
  const [receiver, token] = [getAddress(c.receiver), getAddress(c.token)]
  const r = requirements
  const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase()
  if (r && (r.scheme !== 'batch-settlement' || !same(r.payTo, receiver) || !same(r.asset, token))) return deny('sign_requirements_mismatch', 'Requirements scheme, payTo or asset differs from the batch-settlement channel')
  return checkRequirements({ requirements, chainId }) ?? { ok: true, id, receiver, token }
}

/**
 * Decodes an x402 batch-settlement voucher: exactly `Voucher(bytes32 channelId,uint128 maxClaimableAmount)` under
 * the canonical escrow's domain, for a channel bound by bindBatchChannel. The total is cumulative: what it counts
 * is decided in the writer against the highest total already signed for the channel.
 */
export function decodeBatchVoucher(p: { typedData: TypedDataJson; wallet: string; channel: BatchChannel | undefined; requirements: X402Requirements | undefined }): DecodeResult {
  const { typedData } = p
  const shape = (why: string) => deny('sign_batch_voucher_invalid', `batch-settlement voucher: ${why}`)
  const dom = normalizeEip712Domain(typedData)
  const d = typedData.domain
  // SECURITY: the canonical escrow only — a voucher for a look-alike contract is a signature the policy cannot place.
  if (!dom.ok || dom.chainId === null || d.name !== 'x402 Batch Settlement' || d.version !== '1' || d.salt !== undefined || d.verifyingContract?.toLowerCase() !== X402_BATCH_SETTLEMENT) {
    return shape('domain must be exactly {name: "x402 Batch Settlement", version: "1", chainId, verifyingContract}')
  }
  if (typedData.primaryType !== 'Voucher' || !checkStructTypes(typedData.types, { Voucher: VOUCHER })) {
    return shape('only Voucher(bytes32 channelId,uint128 maxClaimableAmount) is signed for the payer')
  }
  const h = hashTypedJson(typedData, dom.domain, shape)
  if (!h.ok) return h
  const m = h.message as { channelId: Hex; maxClaimableAmount: bigint }
  const ch = bindBatchChannel(p.channel, p.wallet, dom.chainId, p.requirements)
  if (!ch.ok) return ch
  if (ch.id !== m.channelId.toLowerCase()) return deny('sign_batch_channel_invalid', 'batch-settlement voucher: channelId is not the named channel’s id')
  const digest = h.digest
  const [escrow, total] = [getAddress(X402_BATCH_SETTLEMENT), BigInt(m.maxClaimableAmount).toString()]
  return { ok: true, action: { kind: 'batch_voucher', chainId: dom.chainId, asset: ch.token, channelId: ch.id, receiver: ch.receiver, escrow, total, signedBefore: '0' }, plan: { kind: 'typedData', digest } }
}

/** SECURITY: a deposit authorization's EIP-3009 nonce must be keccak256(channelId, depositSalt): the collector credits exactly that channel. */
export function bindBatchDeposit(p: { channel: BatchChannel | undefined; wallet: string; chainId: number; asset: string; nonce: string; requirements: X402Requirements | undefined }): Bound | SignDenial {
  const ch = bindBatchChannel(p.channel, p.wallet, p.chainId, p.requirements)
  if (!ch.ok) return ch
  if (ch.token.toLowerCase() !== p.asset.toLowerCase()) return deny('sign_batch_channel_invalid', 'batch-settlement deposit: token is not the channel’s token')
  const salt = p.channel?.depositSalt
  const expected = salt === undefined ? null : keccak256(encodeAbiParameters([{ type: 'bytes32' }, { type: 'uint256' }], [ch.id, BigInt(salt)]))
  if (expected !== p.nonce.toLowerCase()) return deny('sign_batch_channel_invalid', 'batch-settlement deposit: nonce does not bind the named channel (keccak256(channelId, depositSalt))')
  return ch
}
