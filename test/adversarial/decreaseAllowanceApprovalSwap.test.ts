import { type Hex, decodeFunctionData, encodeFunctionData, parseAbi, parseTransaction, recoverTransactionAddress } from 'viem'
import { describe, expect, it } from 'vitest'
import type { AgentOperation } from '../../agent/requestSignature.js'
import { CHAIN_ID, type PolicyBody, TOKEN, TOKEN_ENTRY, postSign, signedBody } from '../helpers/agentClient.js'
import { stackWithAgentPerFile } from '../helpers/stackWithAgentPerFile.js'

const DEX = '0x1111111254EEB25477B68fb85Ed929f73A960582' as const
const MAX = (1n << 256n) - 1n
const erc20 = parseAbi(['function decreaseAllowance(address spender, uint256 subtractedValue)'])

/** No rule matches a decreaseAllowance to the DEX: it goes to the owner; a native budget pays its fee. */
const policy: PolicyBody = {
  version: 1,
  timeZone: 'UTC',
  tokens: [TOKEN_ENTRY],
  budgets: [
    { chainId: CHAIN_ID, asset: TOKEN, perTx: '1000000', rolling24h: '10000000' },
    { chainId: CHAIN_ID, asset: 'native', perTx: '1000000000000000000', rolling24h: '5000000000000000000' },
  ],
  rules: [{ id: 'ask-owner', effect: 'allow', kinds: ['erc20_approve'], spenders: { in: ['0x0000000000000000000000000000000000000001'] }, onViolation: 'pending' }],
}

const decrease = (amount: bigint): AgentOperation => ({
  op: 'signTransaction',
  transaction: {
    chainId: CHAIN_ID,
    to: TOKEN,
    nonce: 0,
    gas: '60000',
    maxFeePerGas: '1000000000',
    maxPriorityFeePerGas: '1000000000',
    data: encodeFunctionData({ abi: erc20, functionName: 'decreaseAllowance', args: [DEX, amount] }),
  },
})

/**
 * rt29a, attack on issue 12 finding 1 (an approval binds the exact thing signed): the decoder recorded every
 * decreaseAllowance with amount 0 (it grants nothing), so `decreaseAllowance(DEX, 5)` and
 * `decreaseAllowance(DEX, 2^256-1)` had the same decoded action, approval key and owner summary. A prompt-injected
 * agent asks the owner to approve lowering the DEX's allowance by 5, then gets a different transaction signed on that
 * approval (one that zeroes or reverts the owner's allowance), and the owner was never shown the amount.
 */
describe('adversarial: an approved decreaseAllowance cannot be swapped for another amount', () => {
  const ask = async (operation: AgentOperation) => postSign(s.stack.url, signedBody({ agentKey: s.agentKey, wallet: s.wallet, operation }))

  const s = stackWithAgentPerFile(policy)

  it('approved decreaseAllowance(DEX, 5) signs; decreaseAllowance(DEX, 2^256-1) gets no signature', async () => {
    const first = await ask(decrease(5n))
    expect(first.json.code, JSON.stringify(first.json)).toBe('approval_pending')
    // The owner is shown the amount the call lowers the allowance by.
    const shown = (await s.client.wallet(s.wallet)).pending.find((p) => p.pendingId === first.json.pendingId) as { summary: { describe: string } }
    expect(shown.summary.describe).toContain('decreaseAllowance')
    expect(shown.summary.describe).toMatch(/\b5\b/)
    await s.client.resolvePending(s.wallet, first.json.pendingId as string, true)

    const evil = await ask(decrease(MAX))
    expect(evil.json.signature).toBeUndefined()
    expect(evil.json.serializedTransaction).toBeUndefined()
    expect(evil.json.code).toBe('approval_pending') // a new request for the owner, not the approved one

    const ok = await ask(decrease(5n))
    expect(ok.status, JSON.stringify(ok.json)).toBe(200)
    const raw = ok.json.serializedTransaction as Hex
    expect(await recoverTransactionAddress({ serializedTransaction: raw as never })).toBe(s.wallet)
    expect(decodeFunctionData({ abi: erc20, data: parseTransaction(raw).data! }).args).toEqual([DEX, 5n])
  })
})
