import { type Hex, recoverTransactionAddress } from 'viem'
import { describe, expect, it } from 'vitest'
import type { AgentOperation } from '../../agent/requestSignature.js'
import { CHAIN_ID, MERCHANT, type PolicyBody, TOKEN, TOKEN_ENTRY, postSign, signedBody } from '../helpers/agentClient.js'
import { stackWithAgentPerFile } from '../helpers/stackWithAgentPerFile.js'

/** Native payments to MERCHANT under a real native budget; anything over it goes to the owner (approvals skip caps). */
const policy: PolicyBody = {
  version: 1,
  timeZone: 'UTC',
  tokens: [TOKEN_ENTRY],
  budgets: [
    { chainId: CHAIN_ID, asset: TOKEN, perTx: '100', rolling24h: '1000' },
    { chainId: CHAIN_ID, asset: 'native', perTx: '100000000000000000', rolling24h: '1000000000000000000' },
  ],
  rules: [{ id: 'pay', effect: 'allow', kinds: ['native_transfer'], payTo: { in: [MERCHANT] }, onViolation: 'pending' }],
}
const send = (gas: bigint, maxFeePerGas: bigint, maxPriorityFeePerGas = 1n): AgentOperation => ({
  op: 'signTransaction',
  transaction: {
    chainId: CHAIN_ID,
    to: MERCHANT,
    nonce: 0,
    gas: gas.toString(),
    maxFeePerGas: maxFeePerGas.toString(),
    maxPriorityFeePerGas: maxPriorityFeePerGas.toString(),
    value: '1',
  },
})

/**
 * Attack: a transaction whose gas or maxFeePerGas is so large that the
 * worst-case fee gas × maxFeePerGas no longer fits a uint256 (e.g. 2^63 gas
 * × 2^255 wei = 2^318). Over the cap it went to the owner; once approved
 * (approvals skip caps) its fee spend could not be recorded (a ledger
 * amount is ≤ 78 digits) and the enclave halted. Now decoding bounds gas
 * ≤ 2^64−1, fees ≤ 2^256−1 and gas × maxFeePerGas ≤ 2^256−1:
 * `sign_tx_fee_out_of_range`, before anything reaches the owner.
 */
describe('adversarial: gas × fee overflow', () => {
  const ask = (operation: AgentOperation) => postSign(s.stack.url, signedBody({ agentKey: s.agentKey, wallet: s.wallet, operation }))

  const s = stackWithAgentPerFile(policy)

  it('gas 2^64, fee 2^256, and 2^63 gas × 2^255 wei: no signature, sign_tx_fee_out_of_range, nothing queued for the owner', async () => {
    const cases = [send(1n << 64n, 1n), send(21_000n, 1n << 256n), send(1n << 63n, 1n << 255n, 1n << 255n), send((1n << 64n) - 1n, (1n << 200n), 1n)]
    for (const op of cases) {
      const r = await ask(op)
      expect(r.json.signature, JSON.stringify(r.json)).toBeUndefined()
      expect(r.json.code).toBe('sign_tx_fee_out_of_range')
    }
    expect((await s.client.wallet(s.wallet)).pending).toEqual([])
  })

  it('honest: a 21,000-gas, 1 gwei native payment signs and recovers to the wallet', async () => {
    const r = await ask(send(21_000n, 1_000_000_000n))
    expect(r.status, JSON.stringify(r.json)).toBe(200)
    expect(await recoverTransactionAddress({ serializedTransaction: r.json.serializedTransaction as Hex as never })).toBe(s.wallet)
  })
  it('at the bounds: 2^64−1 gas × a fee that keeps the product ≤ 2^256−1 goes to the owner, is approved and signs; the enclave keeps signing', async () => {
    const big = send((1n << 64n) - 1n, 1n << 190n, 1n)
    const first = await ask(big)
    expect(first.json.code, JSON.stringify(first.json)).toBe('approval_pending')
    await s.client.resolvePending(s.wallet, first.json.pendingId as string, true)
    const approved = await ask(big)
    expect(approved.status, JSON.stringify(approved.json)).toBe(200)
    expect(await recoverTransactionAddress({ serializedTransaction: approved.json.serializedTransaction as Hex as never })).toBe(s.wallet)
    // Its ~2^254-wei fee was counted: the next ordinary payment exceeds the native rolling cap and asks the owner.
    const next = await ask(send(21_000n, 1_000_000_000n))
    expect(next.json).toMatchObject({ code: 'approval_pending', rule: 'budget.rolling24h' })
  })

})
