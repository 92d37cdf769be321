import { type Hex, verifyTypedData } from 'viem'
import { describe, expect, it } from 'vitest'
import type { AgentOperation } from '../../agent/requestSignature.js'
import { CHAIN_ID, MERCHANT, type PolicyBody, TOKEN, TOKEN_ENTRY, postSign, signedBody } from '../helpers/agentClient.js'
import { stackWithAgentPerFile } from '../helpers/stackWithAgentPerFile.js'

const PERMIT2 = '0x000000000022D473030F116dDEE9F6B43aC78BA3' as const
/** The x402 exact Permit2 proxy: its witness's `to` is the payee. */
const X402_PROXY = '0x402085c248EeA27D92E8b30b2C58ed07f9E20001' as const

const policy: PolicyBody = {
  version: 1,
  timeZone: 'UTC',
  tokens: [TOKEN_ENTRY],
  budgets: [{ chainId: CHAIN_ID, asset: TOKEN, perTx: '5000', rolling24h: '3000' }],
  rules: [{ id: 'x402', effect: 'allow', kinds: ['permit2_transfer'], payTo: { in: [MERCHANT] }, maxValiditySeconds: 600 }],
}

/**
 * A witness transfer with a witness struct named `witnessType`. The x402 proxies hash only their own `Witness`
 * struct (a permit to them under another name is refused as a shape), so other names go to another spender: the
 * merchant itself, which is then the payee.
 */
const witnessPermit = (witnessType: string, amount = 1000n, spender: Hex = witnessType === 'Witness' ? X402_PROXY : MERCHANT): Extract<AgentOperation, { op: 'signTypedData' }> => ({
  op: 'signTypedData',
  typedData: {
    domain: { name: 'Permit2', chainId: CHAIN_ID, verifyingContract: PERMIT2 },
    types: {
      PermitWitnessTransferFrom: [
        { name: 'permitted', type: 'TokenPermissions' },
        { name: 'spender', type: 'address' },
        { name: 'nonce', type: 'uint256' },
        { name: 'deadline', type: 'uint256' },
        { name: 'witness', type: witnessType },
      ],
      TokenPermissions: [
        { name: 'token', type: 'address' },
        { name: 'amount', type: 'uint256' },
      ],
      [witnessType]: [
        { name: 'to', type: 'address' },
        { name: 'validAfter', type: 'uint256' },
      ],
    },
    primaryType: 'PermitWitnessTransferFrom',
    message: {
      permitted: { token: TOKEN, amount: amount.toString() },
      spender,
      nonce: String(Date.now()),
      deadline: String(Math.floor(Date.now() / 1000) + 300),
      witness: { to: MERCHANT, validAfter: '0' },
    },
  },
})

/**
 * Attack: a malicious x402 merchant (or agent) sends a Permit2
 * PermitWitnessTransferFrom whose witness type name is longer than the
 * decoded-action schema allows (65+ characters). The decoder accepted it and
 * the action only failed its schema inside the single writer (audit entry),
 * after the spend was applied: the enclave halted. Now every decoded action is
 * checked against DecodedActionSchema before the writer: `sign_action_out_of_bounds`,
 * nothing counted, and honest payments still sign.
 */
describe('adversarial: an over-long Permit2 witness type name', () => {
  const ask = (operation: AgentOperation) => postSign(s.stack.url, signedBody({ agentKey: s.agentKey, wallet: s.wallet, operation }))

  const s = stackWithAgentPerFile(policy)

  it('witness type names of 65 and 4,000 characters: no signature, sign_action_out_of_bounds / sign_typed_data_too_large; nothing counted', async () => {
    const long = await ask(witnessPermit(`Witness${'X'.repeat(58)}`))
    expect(`Witness${'X'.repeat(58)}`.length).toBe(65)
    expect(long.json.signature).toBeUndefined()
    expect(long.json.code).toBe('sign_action_out_of_bounds')
    const huge = await ask(witnessPermit(`Witness${'X'.repeat(4000)}`))
    expect(huge.json.signature).toBeUndefined()
    expect(['sign_action_out_of_bounds', 'sign_typed_data_too_large']).toContain(huge.json.code)
    // Ten more in flight at once: every one refused the same way, the enclave keeps answering.
    const many = await Promise.all(Array.from({ length: 10 }, () => ask(witnessPermit(`W${'y'.repeat(80)}`))))
    for (const r of many) expect(r.json).toMatchObject({ code: 'sign_action_out_of_bounds' })
    expect(many.every((r) => r.json.signature === undefined)).toBe(true)
    // To the x402 proxy any witness struct but its own `Witness` is refused as a shape, whatever the name's length.
    for (const name of [`Witness${'X'.repeat(58)}`, `Witness${'X'.repeat(57)}`, 'Pay']) {
      const r = await ask(witnessPermit(name, 1000n, X402_PROXY))
      expect(r.json).toMatchObject({ code: 'sign_permit2_shape_invalid' })
      expect(r.json.signature).toBeUndefined()
    }
  })

  it('honest: a 64-character witness type name and the x402 `Witness` both sign (nothing was counted for the refused ones: both fit the 3,000 rolling cap)', async () => {
    for (const name of [`Witness${'X'.repeat(57)}`, 'Witness']) {
      const op = witnessPermit(name)
      const r = await ask(op)
      expect(r.status, JSON.stringify(r.json)).toBe(200)
      const td = op.typedData
      const m = td.message as { permitted: { token: Hex; amount: string }; spender: Hex; nonce: string; deadline: string; witness: { to: Hex; validAfter: string } }
      const ok = await verifyTypedData({
        address: s.wallet,
        domain: { name: 'Permit2', chainId: CHAIN_ID, verifyingContract: PERMIT2 },
        types: td.types as never,
        primaryType: 'PermitWitnessTransferFrom',
        message: {
          permitted: { token: m.permitted.token, amount: BigInt(m.permitted.amount) },
          spender: m.spender,
          nonce: BigInt(m.nonce),
          deadline: BigInt(m.deadline),
          witness: { to: m.witness.to, validAfter: BigInt(m.witness.validAfter) },
        } as never,
        signature: r.json.signature as Hex,
      } as never)
      expect(ok).toBe(true)
    }
    // Only the honest payments count: a third 1,000 fits, a fourth does not.
    expect((await ask(witnessPermit('Witness'))).status).toBe(200)
    expect((await ask(witnessPermit('Witness'))).json.code).toBe('policy_daily_cap_exceeded')
    const st = await s.client.wallet(s.wallet)
    expect(st.address.toLowerCase()).toBe(s.wallet.toLowerCase())
  })
})
