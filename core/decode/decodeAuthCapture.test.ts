import { AuthCaptureEvmScheme } from '@x402/evm/auth-capture/client'
import { describe, expect, it } from 'vitest'
import type { AgentRequest, TypedDataJson } from '../../shared/schemas/agentRequest.js'
import { toJsonValue } from '../../agent/toJsonValue.js'
import { MOCK_PAY_TO, MOCK_REGISTRY, MOCK_USDC, MOCK_WALLET, mockSignRequest } from '../../test/helpers/mockSignRequest.js'
import { decodeSignRequest } from './decodeSignRequest.js'

const OPERATOR = '0x90F79bf6EB2c4f870365E785982E1f101E93b906'
const FEES = '0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65'
const ESCROW = '0xf96815976523E00e65Be8f34cA5e64b4f41EB19c'
const NOW = Math.floor(Date.now() / 1000)
const requirements = (over: Record<string, unknown> = {}) => ({
  scheme: 'auth-capture',
  network: 'eip155:84532',
  asset: MOCK_USDC,
  amount: '2500',
  payTo: MOCK_PAY_TO,
  maxTimeoutSeconds: 300,
  extra: { name: 'USDC', version: '2', captureAuthorizer: OPERATOR, feeRecipient: FEES, captureDeadline: NOW + 3600, refundDeadline: NOW + 86400, minFeeBps: 0, maxFeeBps: 100, ...over },
})
type Payment = NonNullable<NonNullable<AgentRequest['context']>['authCapture']>

/** What the reference auth-capture client signs, and the PaymentInfo it built (as the bursar SDK reconstructs it). */
async function reference(req = requirements()): Promise<{ typedData: TypedDataJson; payment: Payment }> {
  let typedData: TypedDataJson | undefined
  const signer = { address: MOCK_WALLET, signTypedData: async (td: unknown) => ((typedData = toJsonValue(td) as TypedDataJson), `0x${'11'.repeat(65)}` as const) }
  const r = await new AuthCaptureEvmScheme(signer as never).createPaymentPayload(2, req as never)
  const p = r.payload as { authorization?: { validBefore: string }; permit2Authorization?: { deadline: string }; salt: `0x${string}` }
  const e = req.extra
  const payment: Payment = {
    operator: e.captureAuthorizer, receiver: req.payTo, token: req.asset, maxAmount: req.amount, preApprovalExpiry: Number(p.authorization?.validBefore ?? p.permit2Authorization?.deadline),
    authorizationExpiry: e.captureDeadline, refundExpiry: e.refundDeadline, minFeeBps: e.minFeeBps, maxFeeBps: e.maxFeeBps, feeReceiver: e.feeRecipient, salt: p.salt,
  }
  return { typedData: typedData!, payment }
}
const decode = (typedData: TypedDataJson, authCapture?: Payment, req: object | null = requirements()) =>
  decodeSignRequest({ request: mockSignRequest({ op: 'signTypedData', typedData }, { ...(req ? { requirements: req as never } : {}), ...(authCapture ? { authCapture } : {}) }), wallet: MOCK_WALLET, registry: MOCK_REGISTRY })

describe('decode: x402 auth-capture', () => {
  it('the reference client’s authorization, bound to its PaymentInfo: receiver, operator, fee receiver, escrow, deadlines', async () => {
    const { typedData, payment } = await reference()
    expect(decode(typedData, payment)).toMatchObject({
      ok: true,
      action: { kind: 'auth_capture', amount: '2500', receiver: MOCK_PAY_TO, operator: OPERATOR, feeReceiver: FEES, maxFeeBps: 100, escrow: ESCROW, captureDeadline: NOW + 3600, refundDeadline: NOW + 86400 },
    })
  })

  it('authCaptureInfoSwap: a PaymentInfo other than the one the nonce commits to (receiver, operator, fees, salt) is refused', async () => {
    const { typedData, payment } = await reference()
    for (const over of [{ receiver: FEES }, { operator: FEES }, { maxFeeBps: 50 }, { feeReceiver: OPERATOR }, { salt: `0x${'22'.repeat(32)}` }, { refundExpiry: NOW }]) {
      expect(decode(typedData, { ...payment, ...over }, null), JSON.stringify(over)).toMatchObject({ ok: false, code: 'sign_auth_capture_invalid' })
    }
    expect(decode(typedData)).toMatchObject({ ok: false, code: 'sign_auth_capture_invalid' })
  })

  it('a fee with no fixed receiver, or requirements that disagree, are refused', async () => {
    const zeroFees = await reference(requirements({ feeRecipient: '0x0000000000000000000000000000000000000000' }))
    expect(decode(zeroFees.typedData, zeroFees.payment)).toMatchObject({ ok: false, code: 'sign_auth_capture_invalid' })
    const { typedData, payment } = await reference()
    expect(decode(typedData, payment, { ...requirements(), payTo: FEES })).toMatchObject({ ok: false, code: 'sign_requirements_mismatch' })
    expect(decode(typedData, payment, { ...requirements(), scheme: 'exact' })).toMatchObject({ ok: false, code: 'sign_requirements_mismatch' })
  })
  it('the Permit2 variant: a PermitTransferFrom to the escrow’s Permit2 collector, its nonce the PaymentInfo hash', async () => {
    const { typedData, payment } = await reference(requirements({ assetTransferMethod: 'permit2' }))
    expect(typedData.primaryType).toBe('PermitTransferFrom')
    expect(decode(typedData, payment, requirements({ assetTransferMethod: 'permit2' }))).toMatchObject({ ok: true, action: { kind: 'auth_capture', amount: '2500', receiver: MOCK_PAY_TO, operator: OPERATOR, escrow: ESCROW } })
    expect(decode(typedData, { ...payment, receiver: FEES }, null)).toMatchObject({ ok: false, code: 'sign_auth_capture_invalid' })
    expect(decode(typedData, undefined, null)).toMatchObject({ ok: false, code: 'sign_auth_capture_invalid' })
  })
})
