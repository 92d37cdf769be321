import { type Hex, verifyTypedData } from 'viem'
import { describe, expect, it } from 'vitest'
import type { AgentOperation } from '../../agent/requestSignature.js'
import { CHAIN_ID, type PolicyBody, TOKEN, TOKEN_ENTRY, postSign, signedBody } from '../helpers/agentClient.js'
import { stackWithAgentPerFile } from '../helpers/stackWithAgentPerFile.js'

const PERMIT2 = '0x000000000022D473030F116dDEE9F6B43aC78BA3' as const
const DEX = '0x1111111254EEB25477B68fb85Ed929f73A960582' as const // not an x402 proxy: any flat witness struct decodes

/** No rule matches a Permit2 transfer to the DEX: it goes to the owner. */
const policy: PolicyBody = {
  version: 1,
  timeZone: 'UTC',
  tokens: [TOKEN_ENTRY],
  budgets: [{ chainId: CHAIN_ID, asset: TOKEN, perTx: '1000000', rolling24h: '10000000' }],
  rules: [{ id: 'ask-owner', effect: 'allow', kinds: ['permit2_transfer'], spenders: { in: ['0x0000000000000000000000000000000000000001'] }, onViolation: 'pending' }],
}

type Field = { name: string; type: string }
const ORDER: Field[] = [{ name: 'a', type: 'uint256' }, { name: 'b', type: 'uint256' }]
const SWAPPED: Field[] = [{ name: 'b', type: 'uint256' }, { name: 'a', type: 'uint256' }]
const NARROW: Field[] = [{ name: 'a', type: 'uint48' }, { name: 'b', type: 'uint160' }]

const witnessTransfer = (order: Field[]) =>
  ({
    op: 'signTypedData',
    typedData: {
      domain: { name: 'Permit2', chainId: CHAIN_ID, verifyingContract: PERMIT2 },
      types: {
        PermitWitnessTransferFrom: [
          { name: 'permitted', type: 'TokenPermissions' },
          { name: 'spender', type: 'address' },
          { name: 'nonce', type: 'uint256' },
          { name: 'deadline', type: 'uint256' },
          { name: 'witness', type: 'Order' },
        ],
        TokenPermissions: [
          { name: 'token', type: 'address' },
          { name: 'amount', type: 'uint256' },
        ],
        Order: order,
      },
      primaryType: 'PermitWitnessTransferFrom',
      message: { permitted: { token: TOKEN, amount: '5' }, spender: DEX, nonce: '7', deadline: String(Math.floor(Date.now() / 1000) + 600), witness: { a: '1', b: '2' } },
    },
  }) satisfies AgentOperation

/**
 * bind12, attack on issue 12 finding 1 (an approval binds the exact thing signed), through the real host and enclave
 * (rt29a's core test permit2WitnessTypeSwap, end to end): a prompt-injected agent asks the owner to approve a Permit2
 * witness transfer with witness `Order(uint256 a,uint256 b)`, then asks for the same values under `Order(uint256
 * b,uint256 a)` or `Order(uint48 a,uint160 b)`: other digests, other witness type strings the spender's contract
 * verifies. Before rt29a's fix they shared the approval's key; each must get no signature (a new request for the
 * owner, showing its struct), and the approved one signs, checked with viem.
 */
describe('adversarial: an approved Permit2 witness transfer cannot be swapped for another witness struct', () => {
  const ask = async (operation: AgentOperation) => postSign(s.stack.url, signedBody({ agentKey: s.agentKey, wallet: s.wallet, operation }))

  const s = stackWithAgentPerFile(policy)

  it('approved Order(uint256 a,uint256 b) signs; the swapped order or narrower types get no signature', async () => {
    const honest = witnessTransfer(ORDER)
    const first = await ask(honest)
    expect(first.json.code, JSON.stringify(first.json)).toBe('approval_pending')
    // The owner is shown the witness struct as signed (field types and order).
    const shown = (await s.client.wallet(s.wallet)).pending.find((p) => p.pendingId === first.json.pendingId) as { summary: { action: Record<string, unknown> } }
    await s.client.resolvePending(s.wallet, first.json.pendingId as string, true)

    for (const [order, struct] of [[SWAPPED, 'Order(uint256 b,uint256 a)'], [NARROW, 'Order(uint48 a,uint160 b)']] as const) {
      const evil = await ask(witnessTransfer(order))
      expect(evil.json.signature, struct).toBeUndefined()
      expect(evil.json.code, struct).toBe('approval_pending') // a new request for the owner, not the approved one
      const asked = (await s.client.wallet(s.wallet)).pending.find((p) => p.pendingId === evil.json.pendingId) as { summary: { action: Record<string, unknown> } }
      expect(asked.summary.action).toMatchObject({ witness: { struct } })
    }

    expect(shown.summary.action).toMatchObject({ kind: 'permit2_transfer', witness: { struct: 'Order(uint256 a,uint256 b)' } })
    const ok = await ask(honest)
    expect(ok.status, JSON.stringify(ok.json)).toBe(200)
    const td = honest.typedData
    expect(
      await verifyTypedData({
        address: s.wallet,
        domain: td.domain,
        types: td.types,
        primaryType: 'PermitWitnessTransferFrom',
        message: { ...td.message, nonce: 7n, deadline: BigInt(td.message.deadline), permitted: { token: TOKEN, amount: 5n }, witness: { a: 1n, b: 2n } },
        signature: ok.json.signature as Hex,
      }),
    ).toBe(true)
    // The signature is not valid for the swapped struct (what the spender's contract would hash).
    expect(
      await verifyTypedData({
        address: s.wallet,
        domain: td.domain,
        types: { ...td.types, Order: SWAPPED },
        primaryType: 'PermitWitnessTransferFrom',
        message: { ...td.message, nonce: 7n, deadline: BigInt(td.message.deadline), permitted: { token: TOKEN, amount: 5n }, witness: { a: 1n, b: 2n } },
        signature: ok.json.signature as Hex,
      }),
    ).toBe(false)
  })
})
