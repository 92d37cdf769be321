import { AuthCaptureEvmScheme } from '@x402/evm/auth-capture/client'
import { type Hex, verifyTypedData } from 'viem'
import { describe, expect, it } from 'vitest'
import type { AgentOperation } from '../../agent/requestSignature.js'
import { toJsonValue } from '../../agent/toJsonValue.js'
import type { TypedDataJson } from '../../shared/schemas/agentRequest.js'
import { CHAIN_ID, MERCHANT, OTHER_PAYEE, type PolicyBody, TOKEN, TOKEN_ENTRY, postSign, signedBody } from '../helpers/agentClient.js'
import { stackWithAgentPerFile } from '../helpers/stackWithAgentPerFile.js'

const ESCROW = '0xf96815976523E00e65Be8f34cA5e64b4f41EB19c'
const OPERATOR = '0x90F79bf6EB2c4f870365E785982E1f101E93b906'
const NOW = Math.floor(Date.now() / 1000)

/** No rule matches an auth-capture to the merchant: it goes to the owner. */
const policy: PolicyBody = {
  version: 1,
  timeZone: 'UTC',
  tokens: [TOKEN_ENTRY],
  facilitators: [OPERATOR],
  escrows: [ESCROW],
  budgets: [{ chainId: CHAIN_ID, asset: TOKEN, perTx: '1000000', rolling24h: '10000000' }],
  rules: [{ id: 'ask-owner', effect: 'allow', kinds: ['auth_capture'], payTo: { in: ['0x0000000000000000000000000000000000000001'] }, onViolation: 'pending' }],
}
const offer = (minFeeBps: number) => ({
  scheme: 'auth-capture',
  network: `eip155:${CHAIN_ID}`,
  asset: TOKEN,
  amount: '2500',
  payTo: MERCHANT,
  maxTimeoutSeconds: 300,
  extra: { name: TOKEN_ENTRY.name, version: TOKEN_ENTRY.version, captureAuthorizer: OPERATOR, feeRecipient: OTHER_PAYEE, captureDeadline: NOW + 3600, refundDeadline: NOW + 86400, minFeeBps, maxFeeBps: 100 },
})

/** What the reference auth-capture client signs for the offer (a fresh random salt each time), with its PaymentInfo: the request the bursar SDK sends. */
async function authorization(minFeeBps: number): Promise<{ operation: Extract<AgentOperation, { op: 'signTypedData' }>; context: Record<string, unknown> }> {
  const req = offer(minFeeBps)
  let typedData: TypedDataJson | undefined
  const signer = { address: MERCHANT, signTypedData: async (td: unknown) => ((typedData = toJsonValue(td) as TypedDataJson), `0x${'11'.repeat(65)}` as const) }
  const r = await new AuthCaptureEvmScheme(signer as never).createPaymentPayload(2, req as never)
  const p = r.payload as { authorization: { validBefore: string }; salt: Hex }
  const e = req.extra
  const authCapture = {
    operator: e.captureAuthorizer, receiver: req.payTo, token: req.asset, maxAmount: req.amount, preApprovalExpiry: Number(p.authorization.validBefore),
    authorizationExpiry: e.captureDeadline, refundExpiry: e.refundDeadline, minFeeBps: e.minFeeBps, maxFeeBps: e.maxFeeBps, feeReceiver: e.feeRecipient, salt: p.salt,
  }
  return { operation: { op: 'signTypedData', typedData: typedData! }, context: { requirements: req, authCapture } }
}

/**
 * bind12, attack on issue 12 finding 1 (an approval binds the exact thing signed), through the real host and enclave:
 * an auth-capture authorization's nonce hashes the whole PaymentInfo, but the decoded action left out `minFeeBps`, so
 * the owner approved "fee ≤ 100 bps" and a merchant steering the agent then got the same authorization with
 * minFeeBps 100 signed on that approval (the operator must then take 1 % to the fee receiver), never shown to the
 * owner. It must get no signature (a new request for the owner, showing it); a retry of the approved PaymentInfo with
 * a fresh salt (x402's fresh nonce) still signs, checked with viem.
 */
describe('adversarial: an approved auth-capture cannot be swapped for another minFeeBps', () => {
  const ask = async (a: Awaited<ReturnType<typeof authorization>>, wallet: Hex) =>
    postSign(s.stack.url, signedBody({ agentKey: s.agentKey, wallet, operation: a.operation, extra: { context: a.context } }))
  /** The reference client signs as `from` whatever address it is given: the wallet's. */
  const forWallet = (a: Awaited<ReturnType<typeof authorization>>) => {
    const m = a.operation.typedData.message as Record<string, unknown>
    return { ...a, operation: { ...a.operation, typedData: { ...a.operation.typedData, message: { ...m, from: s.wallet } } } }
  }

  const s = stackWithAgentPerFile(policy)

  it('approved minFeeBps 0 signs (a retry with a fresh salt too); minFeeBps 100 gets no signature', async () => {
    const first = await ask(forWallet(await authorization(0)), s.wallet)
    expect(first.json.code, JSON.stringify(first.json)).toBe('approval_pending')
    await s.client.resolvePending(s.wallet, first.json.pendingId as string, true)

    const evil = await ask(forWallet(await authorization(100)), s.wallet)
    expect(evil.json.signature).toBeUndefined()
    expect(evil.json.code).toBe('approval_pending') // a new request for the owner, not the approved one
    const shown = (await s.client.wallet(s.wallet)).pending.find((p) => p.pendingId === evil.json.pendingId) as { summary: { action: Record<string, unknown>; describe: string } }
    expect(shown.summary.action).toMatchObject({ kind: 'auth_capture', minFeeBps: 100, maxFeeBps: 100 })
    expect(shown.summary.describe).toContain('fee 100–100 bps')

    const retry = forWallet(await authorization(0)) // the x402 client's retry: a fresh salt, hence a fresh nonce
    const ok = await ask(retry, s.wallet)
    expect(ok.status, JSON.stringify(ok.json)).toBe(200)
    const td = retry.operation.typedData
    const m = td.message as Record<string, string>
    expect(
      await verifyTypedData({
        address: s.wallet,
        domain: td.domain as Parameters<typeof verifyTypedData>[0]['domain'],
        types: td.types,
        primaryType: 'ReceiveWithAuthorization',
        message: { from: s.wallet, to: m.to, value: BigInt(m.value!), validAfter: BigInt(m.validAfter!), validBefore: BigInt(m.validBefore!), nonce: m.nonce as Hex },
        signature: ok.json.signature as Hex,
      }),
    ).toBe(true)
  })
})
