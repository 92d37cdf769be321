import { type Hex, encodeFunctionData, erc20Abi, recoverTransactionAddress } from 'viem'
import { beforeAll, describe, expect, it } from 'vitest'
import type { AgentOperation } from '../../agent/requestSignature.js'
import type { AgentKey } from '../../agent/loadAgentKey.js'
import { setupAgent } from '../../scripts/devchain/setupAgent.js'
import { CHAIN_ID, MERCHANT, type PolicyBody, TOKEN, TOKEN_ENTRY, postSign, signedBody } from '../helpers/agentClient.js'
import { stackWithAgentPerFile } from '../helpers/stackWithAgentPerFile.js'

const transferPolicy = (nativePerTx: string): PolicyBody => ({
  version: 1,
  timeZone: 'UTC',
  tokens: [TOKEN_ENTRY],
  budgets: [
    { chainId: CHAIN_ID, asset: TOKEN, perTx: '100', rolling24h: '1000' },
    { chainId: CHAIN_ID, asset: 'native', perTx: nativePerTx, rolling24h: '1000000000000000000' },
  ],
  rules: [{ id: 'pay', effect: 'allow', kinds: ['erc20_transfer'], payTo: { in: [MERCHANT] } }],
})
const transfer = (maxFeePerGas: bigint): AgentOperation => ({
  op: 'signTransaction',
  transaction: {
    chainId: CHAIN_ID,
    to: TOKEN,
    nonce: 0,
    gas: '60000',
    maxFeePerGas: maxFeePerGas.toString(),
    maxPriorityFeePerGas: '1',
    data: encodeFunctionData({ abi: erc20Abi, functionName: 'transfer', args: [MERCHANT, 1n] }),
  },
})

/**
 * Attack: an allowed 1-unit ERC-20 transfer carrying a 10^30-wei max fee —
 * the fee is paid by the wallet in the native coin, so it is money too. The
 * fee counts against the native budget (gas × maxFeePerGas): refused under a
 * native per-transaction cap of 0; the same transfer with a modest fee under
 * a real native budget signs.
 */
describe('adversarial: unbounded transaction fees', () => {
  let generous: AgentKey
  const ask = (agentKey: AgentKey, operation: AgentOperation) => postSign(s.stack.url, signedBody({ agentKey, wallet: s.wallet, operation }))

  const s = stackWithAgentPerFile(transferPolicy('0'))
  beforeAll(async () => {
    generous = (await setupAgent({ host: s.stack.url, owner: s.owner, wallet: s.wallet, policy: transferPolicy('10000000000000000') })).agentKey
  })

  it('a 10^30-wei max fee under a native perTx of 0: no signature, policy_per_tx_cap_exceeded (budget.perTx)', async () => {
    const r = await ask(s.agentKey, transfer(10n ** 30n))
    expect(r.json.signature).toBeUndefined()
    expect(r.json).toMatchObject({ code: 'policy_per_tx_cap_exceeded', rule: 'budget.perTx' })
  })

  it('a 10^30-wei max fee under a real native budget: still refused (gas × maxFeePerGas > perTx)', async () => {
    const r = await ask(generous, transfer(10n ** 30n))
    expect(r.json.signature).toBeUndefined()
    expect(r.json.code).toBe('policy_per_tx_cap_exceeded')
  })

  it('honest: the same transfer with a 1 gwei fee signs, and the transaction recovers to the wallet', async () => {
    const r = await ask(generous, transfer(1_000_000_000n))
    expect(r.status).toBe(200)
    expect(await recoverTransactionAddress({ serializedTransaction: r.json.serializedTransaction as Hex as never })).toBe(s.wallet)
    const w = await s.client.wallet(s.wallet)
    expect(w.address.toLowerCase()).toBe(s.wallet.toLowerCase())
  })
})
