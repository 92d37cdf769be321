import { encodeAbiParameters, getAddress, keccak256, parseAbiParameters } from 'viem'
import type { AgentRequest } from '../../shared/schemas/agentRequest.js'
import { type X402Requirements, checkRequirements } from './checkRequirements.js'
import { type SignDenial, deny } from './signingPlan.js'

export type AuthCapturePayment = NonNullable<NonNullable<AgentRequest['context']>['authCapture']>

/** The canonical x402 auth-capture deployments: EIP-3009 and Permit2 token collectors → their escrow (v1.1, v1.0). */
export const X402_AUTH_CAPTURE_COLLECTORS: ReadonlyMap<string, `0x${string}`> = new Map([
  ['0x8612dfdc421f80336cd14e8ef9cb1e765db5ab88', '0xf96815976523E00e65Be8f34cA5e64b4f41EB19c'],
  ['0xd69831aed5bfe262067ec4c751f4f830ecdd446e', '0xf96815976523E00e65Be8f34cA5e64b4f41EB19c'],
  ['0x0e3df9510de65469c4518d7843919c0b8c7a7757', '0xBdEA0D1bcC5966192B070Fdf62aB4EF5b4420cff'],
  ['0x992476b9ee81d52a5bda0622c333938d0af0ab26', '0xBdEA0D1bcC5966192B070Fdf62aB4EF5b4420cff'],
])
const PAYMENT_INFO_TYPEHASH = keccak256(
  new TextEncoder().encode(
    'PaymentInfo(address operator,address payer,address receiver,address token,uint120 maxAmount,uint48 preApprovalExpiry,uint48 authorizationExpiry,uint48 refundExpiry,uint16 minFeeBps,uint16 maxFeeBps,address feeReceiver,uint256 salt)',
  ),
)
const INFO = parseAbiParameters('bytes32,address,address,address,address,uint120,uint48,uint48,uint48,uint16,uint16,address,uint256')

type Bound = { ok: true; escrow: `0x${string}`; p: AuthCapturePayment }

/**
 * The auth_capture action of a bound authorization (EIP-3009 or Permit2). SECURITY: it carries every PaymentInfo field
 * the nonce hashes (payer is 0 in it: payer-agnostic), so the approval key and owner summary bind them all.
 */
export function authCaptureAction({ p, escrow }: Bound, a: { chainId: number; asset: string; amount: bigint; validAfter: number; nonce: string }) {
  const [receiver, operator, feeReceiver] = [getAddress(p.receiver), getAddress(p.operator), getAddress(p.feeReceiver)]
  const [validBefore, captureDeadline, refundDeadline] = [p.preApprovalExpiry, p.authorizationExpiry, p.refundExpiry]
  return { kind: 'auth_capture', ...a, asset: getAddress(a.asset), amount: a.amount.toString(), receiver, operator, feeReceiver, minFeeBps: p.minFeeBps, maxFeeBps: p.maxFeeBps, escrow, validBefore, captureDeadline, refundDeadline, salt: p.salt.toLowerCase(), nonce: a.nonce.toLowerCase() } as const
}

/**
 * Binds an EIP-3009 authorization to an auth-capture escrow's token collector to the PaymentInfo the agent names:
 * the nonce must be the escrow's payer-agnostic hash of it (keccak256(chainId, escrow, keccak256(PaymentInfo with
 * payer 0))), and the authorization must be exactly its `maxAmount` of its token until its `preApprovalExpiry`.
 * SECURITY: then the operator can only capture up to that amount to `receiver` (the fee, at most `maxFeeBps`, to
 * `feeReceiver`), void or let the payer reclaim it — what the policy checks.
 */
export function bindAuthCapture(q: { p: AuthCapturePayment | undefined; collector: string; chainId: number; asset: string; value: bigint; validBefore: bigint; nonce: string; requirements: X402Requirements | undefined }): Bound | SignDenial {
  const bad = (why: string) => deny('sign_auth_capture_invalid', `auth-capture: ${why}`)
  const { p } = q
  const escrow = X402_AUTH_CAPTURE_COLLECTORS.get(q.collector)!
  if (!p) return bad('an authorization to the escrow’s collector needs its PaymentInfo (context.authCapture)')
  if (p.token.toLowerCase() !== q.asset.toLowerCase() || BigInt(p.maxAmount) !== q.value || BigInt(p.preApprovalExpiry) !== q.validBefore) {
    return bad('token, value or validBefore is not the PaymentInfo’s token, maxAmount, preApprovalExpiry')
  }
  if (p.maxFeeBps > 10_000 || p.minFeeBps > p.maxFeeBps || (p.maxFeeBps > 0 && BigInt(p.feeReceiver) === 0n)) return bad('fees above 100 % or without a fixed fee receiver')
  const zero = '0x0000000000000000000000000000000000000000'
  const info = keccak256(
    encodeAbiParameters(INFO, [PAYMENT_INFO_TYPEHASH, p.operator, zero, p.receiver, p.token, BigInt(p.maxAmount), p.preApprovalExpiry, p.authorizationExpiry, p.refundExpiry, p.minFeeBps, p.maxFeeBps, p.feeReceiver, BigInt(p.salt)] as never),
  )
  const nonce = keccak256(encodeAbiParameters(parseAbiParameters('uint256,address,bytes32'), [BigInt(q.chainId), escrow, info]))
  if (nonce !== q.nonce.toLowerCase()) return bad('nonce is not the escrow’s hash of the named PaymentInfo')
  const denied = checkRequirements({ requirements: q.requirements, chainId: q.chainId, payment: { asset: q.asset, payTo: getAddress(p.receiver), amount: q.value, scheme: 'auth-capture' } })
  return denied ?? { ok: true, escrow, p }
}

/** An EIP-3009 collector takes a ReceiveWithAuthorization, a Permit2 collector a PermitTransferFrom (never the other). */
export const isAuthCaptureCollector = (to: string, permit2: boolean): boolean => X402_AUTH_CAPTURE_COLLECTORS.has(to.toLowerCase()) && permit2 === ['0xd69831aed5bfe262067ec4c751f4f830ecdd446e', '0x992476b9ee81d52a5bda0622c333938d0af0ab26'].includes(to.toLowerCase())
