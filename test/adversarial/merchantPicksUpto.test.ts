import { UptoEvmScheme } from '@x402/evm/upto/client'
import { type Hex, verifyTypedData } from 'viem'
import { describe, expect, it } from 'vitest'
import { bursarAccount } from '../../agent/bursarAccount.js'
import { CHAIN_ID, MERCHANT, OTHER_PAYEE, type PolicyBody, TOKEN, TOKEN_ENTRY, auditEntries } from '../helpers/agentClient.js'
import { stackWithAgentPerFile } from '../helpers/stackWithAgentPerFile.js'

const PERMIT2 = '0x000000000022D473030F116dDEE9F6B43aC78BA3'
const UPTO_PROXY = '0x4020A4f3b7b90ccA423B9fabCc0CE57C6C240002'
const FACILITATOR = '0x90F79bf6EB2c4f870365E785982E1f101E93b906'
const MERCHANTS_OWN_FACILITATOR = '0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65'
const CAP = 5_000n

/** upto payments to the merchant, capped at 5,000 per payment, settled only by the listed facilitator. */
const policy: PolicyBody = {
  version: 1,
  timeZone: 'UTC',
  tokens: [TOKEN_ENTRY],
  facilitators: [FACILITATOR],
  budgets: [{ chainId: CHAIN_ID, asset: TOKEN, perTx: CAP.toString(), rolling24h: '20000' }],
  rules: [{ id: 'x402-upto', effect: 'allow', kinds: ['upto'], payTo: { in: [MERCHANT] }, maxValiditySeconds: 600 }],
}
const requirements = (p: { amount: bigint; payTo?: Hex; facilitator?: Hex; maxTimeoutSeconds?: number }) => ({
  scheme: 'upto',
  network: `eip155:${CHAIN_ID}` as const,
  asset: TOKEN,
  amount: p.amount.toString(),
  payTo: p.payTo ?? MERCHANT,
  maxTimeoutSeconds: p.maxTimeoutSeconds ?? 300,
  extra: { name: TOKEN_ENTRY.name, version: TOKEN_ENTRY.version, assetTransferMethod: 'permit2', facilitatorAddress: p.facilitator ?? FACILITATOR },
})
const uptoTypes = {
  PermitWitnessTransferFrom: [
    { name: 'permitted', type: 'TokenPermissions' },
    { name: 'spender', type: 'address' },
    { name: 'nonce', type: 'uint256' },
    { name: 'deadline', type: 'uint256' },
    { name: 'witness', type: 'Witness' },
  ],
  TokenPermissions: [
    { name: 'token', type: 'address' },
    { name: 'amount', type: 'uint256' },
  ],
  Witness: [
    { name: 'to', type: 'address' },
    { name: 'facilitator', type: 'address' },
    { name: 'validAfter', type: 'uint256' },
  ],
} as const

/**
 * Attack: a malicious x402 merchant answers with `upto`: the wallet signs a
 * Permit2 maximum and the facilitator named in the 402 later settles any
 * amount up to it. The merchant names a huge maximum, its own facilitator, or
 * a long deadline. Through the reference client and real processes the
 * maximum is what counts, the facilitator must be the owner's, the deadline
 * is bounded — or nothing is signed.
 */
describe('adversarial: a merchant that picks upto gets its maximum counted, its facilitator checked, or nothing', () => {
  const s = stackWithAgentPerFile(policy)

  const scheme = () => new UptoEvmScheme(bursarAccount({ host: s.stack.url, agentKey: s.agentKey, wallet: s.wallet }) as never)
  const sign = (r: ReturnType<typeof requirements>) => scheme().createPaymentPayload(2, r as never)

  it('a 10^12 maximum: refused by the per-payment cap (the maximum counts, not what might settle), no payload', async () => {
    await expect(sign(requirements({ amount: 10n ** 12n }))).rejects.toMatchObject({ code: 'policy_per_tx_cap_exceeded' })
  })

  it('the merchant names its own facilitator: refused (facilitator not allowed), no payload', async () => {
    await expect(sign(requirements({ amount: 1_000n, facilitator: MERCHANTS_OWN_FACILITATOR }))).rejects.toMatchObject({
      code: 'policy_facilitator_not_allowed',
    })
  })

  it('an unlisted payee, and a deadline past the policy’s validity bound: refused, no payload', async () => {
    await expect(sign(requirements({ amount: 1_000n, payTo: OTHER_PAYEE }))).rejects.toMatchObject({ code: 'policy_payto_not_allowed' })
    await expect(sign(requirements({ amount: 1_000n, maxTimeoutSeconds: 3_600 }))).rejects.toMatchObject({ code: 'policy_validity_window_too_long' })
  })

  it('honest: a 5,000 maximum is signed as upto for exactly that payee, maximum and facilitator (viem verifies), and counted in full', async () => {
    const out = (await sign(requirements({ amount: CAP }))) as unknown as {
      payload: { signature: Hex; permit2Authorization: { permitted: { token: Hex; amount: string }; spender: Hex; nonce: string; deadline: string; witness: { to: Hex; facilitator: Hex; validAfter: string } } }
    }
    const a = out.payload.permit2Authorization
    expect(a).toMatchObject({ spender: UPTO_PROXY, permitted: { amount: CAP.toString() }, witness: { to: MERCHANT, facilitator: FACILITATOR } })
    const ok = await verifyTypedData({
      address: s.wallet,
      domain: { name: 'Permit2', chainId: CHAIN_ID, verifyingContract: PERMIT2 },
      types: uptoTypes,
      primaryType: 'PermitWitnessTransferFrom',
      message: {
        permitted: { token: a.permitted.token, amount: BigInt(a.permitted.amount) },
        spender: a.spender,
        nonce: BigInt(a.nonce),
        deadline: BigInt(a.deadline),
        witness: { to: a.witness.to, facilitator: a.witness.facilitator, validAfter: BigInt(a.witness.validAfter) },
      },
      signature: out.payload.signature,
    })
    expect(ok).toBe(true)
    const allowed = (await auditEntries(s.stack.url, s.owner, { agent: s.agentKey.agentId })).filter((e) => e.event === 'sign_allowed')
    expect(allowed.map((e) => e.action)).toEqual([expect.objectContaining({ kind: 'upto', amount: CAP.toString(), payTo: MERCHANT, facilitator: FACILITATOR })])
    // 5,000 counted of the 20,000 rolling budget: three more maxima fit, a fourth does not.
    for (let i = 0; i < 3; i++) await sign(requirements({ amount: CAP }))
    await expect(sign(requirements({ amount: 1n }))).rejects.toMatchObject({ code: 'policy_daily_cap_exceeded' })
  })
})
