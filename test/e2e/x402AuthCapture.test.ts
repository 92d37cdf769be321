import { encodePaymentRequiredHeader } from '@x402/core/http'
import type { PaymentRequirements } from '@x402/core/types'
import { type Hex, verifyTypedData } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createPayingFetch } from '../../agent/createPayingFetch.js'
import { CHAIN_ID, MERCHANT, OTHER_PAYEE, type PolicyBody, type StackWithAgent, TOKEN, TOKEN_ENTRY, TRANSFER_TYPES, auditEntries, stackWithAgent, waitAgentFloor } from '../helpers/agentClient.js'

const ESCROW = '0xf96815976523E00e65Be8f34cA5e64b4f41EB19c'
const COLLECTOR = '0x8612dfdc421f80336cd14E8EF9cb1E765dB5ab88'
const OPERATOR = '0x90F79bf6EB2c4f870365E785982E1f101E93b906'
const STRANGE_OPERATOR = '0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65'
const CAP = 5_000n

const policy: PolicyBody = {
  version: 1,
  timeZone: 'UTC',
  tokens: [TOKEN_ENTRY],
  facilitators: [OPERATOR],
  escrows: [ESCROW],
  budgets: [{ chainId: CHAIN_ID, asset: TOKEN, perTx: CAP.toString(), rolling24h: '20000' }],
  rules: [{ id: 'x402-auth-capture', effect: 'allow', kinds: ['auth_capture'], payTo: { in: [MERCHANT] }, maxValiditySeconds: 600 }],
}
const offer = (p: { amount?: bigint; operator?: Hex; feeBps?: number; permit2?: boolean } = {}): PaymentRequirements => ({
  scheme: 'auth-capture',
  network: `eip155:${CHAIN_ID}`,
  asset: TOKEN,
  amount: String(p.amount ?? 2_500n),
  payTo: MERCHANT,
  maxTimeoutSeconds: 300,
  extra: {
    name: TOKEN_ENTRY.name, version: TOKEN_ENTRY.version, captureAuthorizer: p.operator ?? OPERATOR, feeRecipient: OTHER_PAYEE,
    captureDeadline: Math.floor(Date.now() / 1000) + 3600, refundDeadline: Math.floor(Date.now() / 1000) + 86400, minFeeBps: 0, maxFeeBps: p.feeBps ?? 0,
    ...(p.permit2 ? { assetTransferMethod: 'permit2' } : {}),
  },
})

/**
 * x402 `auth-capture` through createPayingFetch (the reference @x402/evm client, registered by bursar) and the real
 * host and enclave. There is no reference auth-capture server or facilitator in @x402/evm 2.27, so the resource here
 * is a plain 402 that records the payment header; the authorization it receives is checked with viem (EIP-3009
 * ReceiveWithAuthorization from the wallet to the escrow's collector). Within policy: signed, the authorized amount
 * counted, audited as auth_capture with receiver and operator. Beyond it: a typed refusal and no payment header.
 */
describe('x402 auth-capture through bursar (authorization signed within policy)', () => {
  let s: StackWithAgent
  beforeAll(async () => {
    s = await stackWithAgent(policy)
    await waitAgentFloor()
  })
  afterAll(async () => {
    await s?.stack.stop()
  })

  const pay = async (accepts: PaymentRequirements) => {
    const headers: string[] = []
    const resource: typeof fetch = async (input, init) => {
      const req = new Request(input, init)
      const header = req.headers.get('PAYMENT-SIGNATURE')
      if (header) {
        headers.push(header)
        return new Response('{"ok":true}', { status: 200 })
      }
      const required = encodePaymentRequiredHeader({ x402Version: 2, resource: { url: req.url, description: '', mimeType: 'application/json' }, accepts: [accepts] })
      return new Response('{}', { status: 402, headers: { 'PAYMENT-REQUIRED': required } })
    }
    const fetchPaid = createPayingFetch({ host: s.stack.url, agentKey: s.agentKey, wallet: s.wallet, fetch: resource, schemes: ['auth-capture'] })
    const res = await fetchPaid('http://127.0.0.1:1/held', undefined, { reason: 'hotel hold' }).catch((e: unknown) => e)
    return { res, headers }
  }

  it('authorizes: the wallet’s ReceiveWithAuthorization to the escrow collector verifies (viem); the maximum counts; audited as auth_capture', async () => {
    const { res, headers } = await pay(offer())
    expect((res as Response).status).toBe(200)
    expect(headers).toHaveLength(1)
    const payload = JSON.parse(Buffer.from(headers[0]!, 'base64').toString()).payload as { authorization: Record<string, string>; signature: Hex }
    const a = payload.authorization
    expect(a).toMatchObject({ from: s.wallet, to: COLLECTOR, value: '2500' })
    const ok = await verifyTypedData({
      address: s.wallet,
      domain: { name: TOKEN_ENTRY.name, version: TOKEN_ENTRY.version, chainId: CHAIN_ID, verifyingContract: TOKEN },
      types: { ReceiveWithAuthorization: [...TRANSFER_TYPES] },
      primaryType: 'ReceiveWithAuthorization',
      message: { from: a.from as Hex, to: a.to as Hex, value: BigInt(a.value!), validAfter: BigInt(a.validAfter!), validBefore: BigInt(a.validBefore!), nonce: a.nonce as Hex },
      signature: payload.signature,
    })
    expect(ok).toBe(true)
    const entries = (await auditEntries(s.stack.url, s.owner, { agent: s.agentKey.agentId })).filter((e) => e.event === 'sign_allowed')
    expect(entries.at(-1)?.action).toMatchObject({ kind: 'auth_capture', amount: '2500', receiver: MERCHANT, operator: OPERATOR, escrow: ESCROW })
    expect(entries.at(-1)?.ledger).toContainEqual(expect.objectContaining({ type: 'spend', amount: '2500', payTo: MERCHANT.toLowerCase() }))
  })

  it('refuses with no payment header: above the per-tx cap, an operator not on facilitators, a fee to an unlisted payee', async () => {
    const over = await pay(offer({ amount: CAP + 1n }))
    expect(over).toMatchObject({ res: { code: 'policy_per_tx_cap_exceeded' }, headers: [] })
    const operator = await pay(offer({ operator: STRANGE_OPERATOR }))
    expect(operator).toMatchObject({ res: { code: 'policy_facilitator_not_allowed' }, headers: [] })
    const fee = await pay(offer({ feeBps: 100 }))
    expect(fee).toMatchObject({ res: { code: 'policy_payto_not_allowed' }, headers: [] })
  })
  it('the Permit2 variant: a PermitTransferFrom from the wallet to the escrow’s Permit2 collector verifies (viem); audited as auth_capture', async () => {
    const { res, headers } = await pay(offer({ permit2: true }))
    expect((res as Response).status).toBe(200)
    const payload = JSON.parse(Buffer.from(headers[0]!, 'base64').toString()).payload as { permit2Authorization: { permitted: { token: Hex; amount: string }; spender: Hex; nonce: string; deadline: string }; signature: Hex }
    const a = payload.permit2Authorization
    expect(a.spender).toBe('0xD69831Aed5bfe262067ec4c751f4F830EcdD446e')
    const ok = await verifyTypedData({
      address: s.wallet,
      domain: { name: 'Permit2', chainId: CHAIN_ID, verifyingContract: '0x000000000022D473030F116dDEE9F6B43aC78BA3' },
      types: { PermitTransferFrom: [{ name: 'permitted', type: 'TokenPermissions' }, { name: 'spender', type: 'address' }, { name: 'nonce', type: 'uint256' }, { name: 'deadline', type: 'uint256' }], TokenPermissions: [{ name: 'token', type: 'address' }, { name: 'amount', type: 'uint256' }] },
      primaryType: 'PermitTransferFrom',
      message: { permitted: { token: a.permitted.token, amount: BigInt(a.permitted.amount) }, spender: a.spender, nonce: BigInt(a.nonce), deadline: BigInt(a.deadline) },
      signature: payload.signature,
    })
    expect(ok).toBe(true)
    const last = (await auditEntries(s.stack.url, s.owner, { agent: s.agentKey.agentId })).filter((e) => e.event === 'sign_allowed').at(-1)
    expect(last?.action).toMatchObject({ kind: 'auth_capture', amount: '2500', receiver: MERCHANT, operator: OPERATOR, escrow: ESCROW })
  })

  it('a void, refund or reclaim gives nothing back by itself; the owner’s signed CreditBudget does, exactly', async () => {
    // 5,000 counted so far against the 20,000 rolling cap: three 5,000 holds fit (20,000 in all), a fourth does not.
    for (let i = 0; i < 3; i++) expect(((await pay(offer({ amount: 5_000n }))).res as Response).status).toBe(200)
    const full = await pay(offer({ amount: 5_000n }))
    expect(full).toMatchObject({ res: { code: 'policy_daily_cap_exceeded' }, headers: [] })
    // The operator voided one hold (the host cannot prove it): the owner, having checked the chain, credits it back.
    await s.client.act('CreditBudget', s.wallet, { agentId: s.agentKey.agentId, chainId: String(CHAIN_ID), asset: TOKEN, amount: '5000' })
    expect(((await pay(offer({ amount: 5_000n }))).res as Response).status).toBe(200)
    expect(await pay(offer({ amount: 1n }))).toMatchObject({ res: { code: 'policy_daily_cap_exceeded' }, headers: [] })
  })
})
