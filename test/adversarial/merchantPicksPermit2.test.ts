import { ExactEvmScheme } from '@x402/evm/exact/client'
import { type Hex, verifyTypedData } from 'viem'
import { beforeAll, describe, expect, it } from 'vitest'
import { bursarAccount } from '../../agent/bursarAccount.js'
import { setupAgent } from '../../scripts/devchain/setupAgent.js'
import { CHAIN_ID, MERCHANT, OTHER_PAYEE, type PolicyBody, TOKEN, TOKEN_ENTRY } from '../helpers/agentClient.js'
import { stackWithAgentPerFile } from '../helpers/stackWithAgentPerFile.js'

const PERMIT2 = '0x000000000022D473030F116dDEE9F6B43aC78BA3'
const CAP = 5_000n

/** x402 payments to the merchant, either transfer method, capped at 5,000 per payment. */
const capped: PolicyBody = {
  version: 1,
  timeZone: 'UTC',
  tokens: [TOKEN_ENTRY],
  budgets: [{ chainId: CHAIN_ID, asset: TOKEN, perTx: CAP.toString(), rolling24h: '20000' }],
  rules: [{ id: 'x402', effect: 'allow', kinds: ['eip3009', 'permit2_transfer'], payTo: { in: [MERCHANT] }, maxValiditySeconds: 600 }],
}
/** The first wave's way to "allow Permit2": a typed-data matcher on its domain. It must not open an uncapped path. */
const domainOnly: PolicyBody = {
  ...capped,
  rules: [{ id: 'permit2-domain', effect: 'allow', kinds: ['typed_data'], typedData: [{ domainName: 'Permit2', primaryTypes: ['PermitWitnessTransferFrom'] }] }],
}
const requirements = (amount: bigint, payTo: Hex) => ({
  scheme: 'exact',
  network: `eip155:${CHAIN_ID}` as const,
  asset: TOKEN,
  amount: amount.toString(),
  payTo,
  maxTimeoutSeconds: 300,
  extra: { name: TOKEN_ENTRY.name, version: TOKEN_ENTRY.version, assetTransferMethod: 'permit2' },
})
const witnessTypes = {
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
    { name: 'validAfter', type: 'uint256' },
  ],
} as const

/**
 * Attack: a malicious x402 merchant answers with `extra.assetTransferMethod:
 * 'permit2'`, so the reference @x402/evm client signs a Permit2
 * PermitWitnessTransferFrom instead of EIP-3009 — once an opaque typed-data
 * signature outside every cap. Through the real client and real processes it
 * is decoded as a Permit2 transfer and capped, or refused; never uncapped.
 */
describe('adversarial: a merchant that picks Permit2 gets a capped payment or nothing', () => {
  let domainOnlyAgent: Awaited<ReturnType<typeof setupAgent>>['agentKey']

  const s = stackWithAgentPerFile(capped)
  beforeAll(async () => {
    domainOnlyAgent = (await setupAgent({ host: s.stack.url, owner: s.owner, wallet: s.wallet, policy: domainOnly })).agentKey
  })

  const scheme = (agentKey = s.agentKey) => new ExactEvmScheme(bursarAccount({ host: s.stack.url, agentKey, wallet: s.wallet }) as never)

  it('10^12 units to an unlisted payee: refused (payee not allowed), no payload', async () => {
    await expect(scheme().createPaymentPayload(2, requirements(10n ** 12n, OTHER_PAYEE) as never)).rejects.toMatchObject({
      code: 'policy_payto_not_allowed',
    })
  })

  it('10^12 units to the merchant: refused by the per-payment cap, no payload', async () => {
    await expect(scheme().createPaymentPayload(2, requirements(10n ** 12n, MERCHANT) as never)).rejects.toMatchObject({
      code: 'policy_per_tx_cap_exceeded',
    })
  })

  it('a policy that only lists the Permit2 domain as typed data does not open it: refused (kind not allowed)', async () => {
    await expect(scheme(domainOnlyAgent).createPaymentPayload(2, requirements(1_000n, MERCHANT) as never)).rejects.toMatchObject({
      code: 'policy_kind_not_allowed',
    })
  })

  it('honest: 1,000 to the merchant is signed as a Permit2 transfer that verifies (viem) for exactly that payee and amount', async () => {
    const out = (await scheme().createPaymentPayload(2, requirements(1_000n, MERCHANT) as never)) as unknown as {
      payload: { signature: Hex; permit2Authorization: { permitted: { token: Hex; amount: string }; spender: Hex; nonce: string; deadline: string; witness: { to: Hex; validAfter: string } } }
    }
    const a = out.payload.permit2Authorization
    expect(a.witness.to).toBe(MERCHANT)
    expect(a.permitted.amount).toBe('1000')
    const ok = await verifyTypedData({
      address: s.wallet,
      domain: { name: 'Permit2', chainId: CHAIN_ID, verifyingContract: PERMIT2 },
      types: witnessTypes,
      primaryType: 'PermitWitnessTransferFrom',
      message: {
        permitted: { token: a.permitted.token, amount: BigInt(a.permitted.amount) },
        spender: a.spender,
        nonce: BigInt(a.nonce),
        deadline: BigInt(a.deadline),
        witness: { to: a.witness.to, validAfter: BigInt(a.witness.validAfter) },
      },
      signature: out.payload.signature,
    })
    expect(ok).toBe(true)
  })
})
