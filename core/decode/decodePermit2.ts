import { getAddress } from 'viem'
import type { TypedDataJson } from '../../shared/schemas/agentRequest.js'
import { type X402Requirements, checkRequirements } from './checkRequirements.js'
import { checkStructTypes, fields } from './checkStructTypes.js'
import { type AuthCapturePayment, authCaptureAction, bindAuthCapture, isAuthCaptureCollector } from './decodeAuthCapture.js'
import { type BatchChannel, bindBatchChannel } from './decodeBatchSettlement.js'
import { PERMIT2_ADDRESS, X402_BATCH_PERMIT2_COLLECTOR, X402_BATCH_SETTLEMENT, X402_PROXY_WITNESS, X402_UPTO_PERMIT2_PROXY } from './knownContracts.js'
import { normalizeEip712Domain } from './normalizeEip712Domain.js'
import { hashTypedJson } from './normalizeTypedMessage.js'
import { type DecodeResult, deny } from './signingPlan.js'

export type DecodePermit2Parameters = { typedData: TypedDataJson; requirements: X402Requirements | undefined; wallet?: string; channel?: BatchChannel | undefined; authCapture?: AuthCapturePayment | undefined }

const TOKEN_PERMISSIONS = fields('address token,uint256 amount')
const TRANSFER = fields('TokenPermissions permitted,address spender,uint256 nonce,uint256 deadline')
const PERMIT_DETAILS = fields('address token,uint160 amount,uint48 expiration,uint48 nonce')
const PERMIT_SINGLE = fields('PermitDetails details,address spender,uint256 sigDeadline')
const ATOMIC_WITNESS = /^(address|uint256|bytes32|uint48|uint160|bool)$/

type Msg = Record<string, unknown>
const str = (v: unknown) => (typeof v === 'bigint' ? v.toString() : String(v))

/**
 * Decodes Permit2 typed data (domain {name: "Permit2", chainId,
 * verifyingContract: Permit2}): a signature transfer (PermitTransferFrom, or
 * PermitWitnessTransferFrom with a flat witness struct) or an allowance
 * (PermitSingle). Batch forms are refused: one token per signature.
 * Through the canonical x402 exact proxy the witness must be exactly
 * `Witness(address to,uint256 validAfter)` and the payee is its `to`; through
 * the upto proxy exactly `Witness(address to,address facilitator,uint256
 * validAfter)`, decoded as an `upto` action (the amount is a maximum).
 */
export function decodePermit2({ typedData, requirements, wallet = '', channel, authCapture }: DecodePermit2Parameters): DecodeResult {
  const { primaryType } = typedData
  const shape = (why: string) => deny('sign_permit2_shape_invalid', `Permit2 ${primaryType}: ${why}`)
  const dom = normalizeEip712Domain(typedData)
  if (!dom.ok) return shape(dom.message)
  const d = typedData.domain
  if (d.name !== 'Permit2' || d.version !== undefined || d.salt !== undefined || dom.chainId === null) {
    return shape('domain must be exactly {name: "Permit2", chainId, verifyingContract}')
  }
  if (d.verifyingContract?.toLowerCase() !== PERMIT2_ADDRESS) return shape('verifyingContract is not the canonical Permit2')
  const chainId = dom.chainId
  let expected: Record<string, readonly { name: string; type: string }[]>
  let witnessType: string | null = null
  if (primaryType === 'PermitTransferFrom') {
    expected = { PermitTransferFrom: TRANSFER, TokenPermissions: TOKEN_PERMISSIONS }
  } else if (primaryType === 'PermitWitnessTransferFrom') {
    const fields = typedData.types.PermitWitnessTransferFrom
    witnessType = fields?.[4]?.name === 'witness' ? (fields[4]?.type ?? null) : null
    const wFields = witnessType ? typedData.types[witnessType] : undefined
    if (!witnessType || !wFields || witnessType === 'TokenPermissions' || !wFields.every((f) => ATOMIC_WITNESS.test(f.type))) {
      return shape('witness must be one flat struct of atomic fields')
    }
    // SECURITY: a permit to an x402 proxy carries exactly that proxy's `Witness` (what it hashes and pays by), nothing else.
    const proxyWitness = X402_PROXY_WITNESS.get(String(typedData.message.spender).toLowerCase())
    expected = {
      PermitWitnessTransferFrom: [...TRANSFER, { name: 'witness', type: witnessType }],
      TokenPermissions: TOKEN_PERMISSIONS,
      ...(proxyWitness ? { Witness: proxyWitness } : { [witnessType]: wFields }),
    }
  } else if (primaryType === 'PermitSingle') {
    expected = { PermitSingle: PERMIT_SINGLE, PermitDetails: PERMIT_DETAILS }
  } else {
    return deny('sign_kind_unsupported', `Permit2 ${primaryType.slice(0, 40)} is not supported (one token per signature)`)
  }
  if (!checkStructTypes(typedData.types, expected)) return shape('types are not the Permit2 types')
  const h = hashTypedJson(typedData, dom.domain, shape)
  if (!h.ok) return h
  const { digest } = h
  const m = h.message as Msg
  if (primaryType === 'PermitSingle') {
    const det = m.details as Msg
    const [asset, spender] = [getAddress(det.token as string), getAddress(m.spender as string)]
    const action = { kind: 'permit2_allowance', chainId, asset, amount: str(det.amount), spender, expiration: Number(det.expiration), nonce: Number(det.nonce), sigDeadline: str(m.sigDeadline) } as const
    return { ok: true, action, plan: { kind: 'typedData', digest } }
  }
  const permitted = m.permitted as Msg
  const spender = getAddress(m.spender as string)
  const w = witnessType ? (m.witness as Msg) : null
  // SECURITY (rt29a): the witness's field types and order reach the digest: the action (approval key, owner summary) keeps them.
  const struct = w ? `${witnessType}(${typedData.types[witnessType!]!.map((f) => `${f.type} ${f.name}`).join(',')})` : ''
  const witness = w ? { type: witnessType!, struct, fields: Object.fromEntries(Object.entries(w).map(([k, v]) => [k, str(v)])) } : null
  // SECURITY: only an x402 proxy is known to pay exactly the witness's `to`; any other spender picks the recipient.
  const toField = witness?.fields.to
  const proxy = X402_PROXY_WITNESS.has(spender.toLowerCase())
  const payTo = proxy && toField ? getAddress(toField) : null
  if (proxy && !payTo) return shape('an x402 proxy permit needs a witness with `to`')
  const asset = getAddress(permitted.token as string)
  const amount = BigInt(permitted.amount as bigint)
  // A proxy payment is compared with the requirements (through the upto proxy its amount is a maximum); any other only by chain.
  const upto = spender.toLowerCase() === X402_UPTO_PERMIT2_PROXY
  const payment = payTo ? { asset, payTo, amount, scheme: upto ? 'upto' : 'exact', ...(upto ? { amountIsMax: true } : {}) } : undefined
  const denied = checkRequirements({ requirements, chainId, payment })
  if (denied) return denied
  const plan = { kind: 'typedData', digest } as const
  // x402 batch-settlement: a permit to the escrow's Permit2 deposit collector is a deposit into the witness's channel.
  if (spender.toLowerCase() === X402_BATCH_PERMIT2_COLLECTOR) {
    const dw = typedData.types.DepositWitness
    if (witnessType !== 'DepositWitness' || dw?.length !== 1 || dw[0]?.name !== 'channelId' || dw[0].type !== 'bytes32') return shape('a deposit carries exactly DepositWitness(bytes32 channelId)')
    const b = bindBatchChannel(channel, wallet, chainId, requirements)
    if (!b.ok) return b
    if (b.id !== witness?.fields.channelId?.toLowerCase() || b.token !== asset) return deny('sign_batch_channel_invalid', 'batch-settlement deposit: the witness channel or token is not the named channel’s')
    const [nonce, validBefore] = [`0x${BigInt(str(m.nonce)).toString(16).padStart(64, '0')}`, Number(str(m.deadline))]
    if (!Number.isSafeInteger(validBefore)) return shape('deadline is not a time in seconds')
    return { ok: true, action: { kind: 'batch_deposit', chainId, asset, amount: amount.toString(), channelId: b.id, receiver: b.receiver, escrow: getAddress(X402_BATCH_SETTLEMENT), validAfter: 0, validBefore, nonce }, plan }
  }
  // x402 auth-capture: a plain permit to an escrow's Permit2 collector, its nonce the escrow's hash of the PaymentInfo.
  if (primaryType === 'PermitTransferFrom' && isAuthCaptureCollector(spender, true)) {
    const nonce = `0x${BigInt(str(m.nonce)).toString(16).padStart(64, '0')}`
    const held = bindAuthCapture({ p: authCapture, collector: spender.toLowerCase(), chainId, asset, value: amount, validBefore: BigInt(str(m.deadline)), nonce, requirements })
    return held.ok ? { ok: true, action: authCaptureAction(held, { chainId, asset, amount, validAfter: 0, nonce }), plan } : held
  }
  const f = witness?.fields as { facilitator: string; validAfter: string } | undefined
  if (upto && f && payTo) {
    return { ok: true, action: { kind: 'upto', chainId, asset, amount: amount.toString(), payTo, facilitator: getAddress(f.facilitator), nonce: str(m.nonce), deadline: str(m.deadline), validAfter: f.validAfter }, plan }
  }
  return {
    ok: true,
    action: { kind: 'permit2_transfer', primaryType, chainId, asset, amount: amount.toString(), spender, payTo, nonce: str(m.nonce), deadline: str(m.deadline), witness },
    plan,
  }
}
