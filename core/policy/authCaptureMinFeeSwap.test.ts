import { AuthCaptureEvmScheme } from '@x402/evm/auth-capture/client'
import { describe, expect, it } from 'vitest'
import { toJsonValue } from '../../agent/toJsonValue.js'
import { DecodedActionSchema } from '../../shared/schemas/decodedAction.js'
import type { AgentRequest, TypedDataJson } from '../../shared/schemas/agentRequest.js'
import { MOCK_PAY_TO, MOCK_REGISTRY, MOCK_USDC, MOCK_WALLET, mockSignRequest } from '../../test/helpers/mockSignRequest.js'
import { decodeSignRequest } from '../decode/decodeSignRequest.js'
import { describeAction, factsOf } from '../kinds/kindTable.js'
import { approvalKey, approvalRequest } from './approvalRequest.js'

const OPERATOR = '0x90F79bf6EB2c4f870365E785982E1f101E93b906'
const FEES = '0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65'
const NOW = 1_800_000_000
type Payment = NonNullable<NonNullable<AgentRequest['context']>['authCapture']>

const requirements = (over: Record<string, unknown>) => ({
  scheme: 'auth-capture',
  network: 'eip155:84532',
  asset: MOCK_USDC,
  amount: '2500',
  payTo: MOCK_PAY_TO,
  maxTimeoutSeconds: 300,
  extra: { name: 'USDC', version: '2', captureAuthorizer: OPERATOR, feeRecipient: FEES, captureDeadline: NOW + 3600, refundDeadline: NOW + 86400, minFeeBps: 0, maxFeeBps: 100, ...over },
})

/** What the reference auth-capture client signs for these requirements (a fresh random salt each call) and its PaymentInfo. */
async function decoded(over: Record<string, unknown> = {}) {
  const req = requirements(over)
  let typedData: TypedDataJson | undefined
  const signer = { address: MOCK_WALLET, signTypedData: async (td: unknown) => ((typedData = toJsonValue(td) as TypedDataJson), `0x${'11'.repeat(65)}` as const) }
  const r = await new AuthCaptureEvmScheme(signer as never).createPaymentPayload(2, req as never)
  const p = r.payload as { authorization: { validBefore: string }; salt: `0x${string}` }
  const e = req.extra
  const payment: Payment = {
    operator: e.captureAuthorizer, receiver: req.payTo, token: req.asset, maxAmount: req.amount, preApprovalExpiry: Number(p.authorization.validBefore),
    authorizationExpiry: e.captureDeadline, refundExpiry: e.refundDeadline, minFeeBps: e.minFeeBps, maxFeeBps: e.maxFeeBps, feeReceiver: e.feeRecipient, salt: p.salt,
  }
  const d = decodeSignRequest({ request: mockSignRequest({ op: 'signTypedData', typedData: typedData! }, { requirements: req as never, authCapture: payment }), wallet: MOCK_WALLET, registry: MOCK_REGISTRY })
  if (!d.ok) throw new Error(d.message)
  return { ...d, payment }
}
const key = (action: Parameters<typeof approvalKey>[0]['action']) => approvalKey({ agentId: 'agt', host: null, action })
const owner = (action: Parameters<typeof approvalKey>[0]['action']) => approvalRequest({ agentId: 'agt', host: null, action, facts: factsOf(action), now: NOW * 1000 })

/**
 * bind12, attack on issue 12 finding 1 (an approval binds the exact thing signed): an auth-capture authorization's
 * nonce is the escrow's hash of the whole PaymentInfo, but the decoded action left out `minFeeBps` (and `salt`), so an
 * authorization with minFeeBps 0 and one with minFeeBps 100 (the operator must then take 1 % of what it captures to
 * the fee receiver) had one approval key and one owner summary: the owner approves one split, the agent (or a merchant
 * steering it) gets the other signed. The salt stays free, as the nonce it makes: an x402 retry's fresh salt.
 */
describe('attack: an auth-capture authorization with another minFeeBps rides on an approval', () => {
  it('minFeeBps 0 and 100 have different approval keys and owner digests; the owner is shown it', async () => {
    const [low, high] = [await decoded({ minFeeBps: 0 }), await decoded({ minFeeBps: 100 })]
    expect(low.plan).not.toEqual(high.plan) // two different things to sign
    expect(key(low.action)).not.toBe(key(high.action))
    expect(owner(low.action).digest).not.toBe(owner(high.action).digest)
    expect(owner(high.action).summary.describe).toMatch(/100\D+100 bps/) // min and max fee shown
  })

  it('the salt is recorded (the owner sees the PaymentInfo whole) and free: a retry with a fresh salt keeps the key', async () => {
    const [a, b] = [await decoded(), await decoded()]
    expect(a.payment.salt).not.toBe(b.payment.salt)
    expect(a.action).toMatchObject({ kind: 'auth_capture', minFeeBps: 0, salt: a.payment.salt.toLowerCase() })
    expect(key(a.action)).toBe(key(b.action))
  })

  it('an entry written before (no minFeeBps, no salt) still parses, is shown without a made-up minimum, never matches a new request', async () => {
    const { action } = await decoded()
    if (action.kind !== 'auth_capture') throw new Error(action.kind)
    const { minFeeBps: _m, salt: _s, ...before } = action
    expect(DecodedActionSchema.parse(before)).toEqual(before)
    expect(describeAction(before)).toContain('fee ≤ 100 bps')
    expect(key(before)).not.toBe(key(action))
  })
})
