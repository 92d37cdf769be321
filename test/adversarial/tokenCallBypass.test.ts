import { randomBytes } from 'node:crypto'
import { type Hex, encodeFunctionData, parseAbi, recoverTransactionAddress } from 'viem'
import { describe, expect, it } from 'vitest'
import type { AgentOperation } from '../../agent/requestSignature.js'
import { CHAIN_ID, MERCHANT, type PolicyBody, TOKEN, TOKEN_ENTRY, postSign, signedBody } from '../helpers/agentClient.js'
import { stackWithAgentPerFile } from '../helpers/stackWithAgentPerFile.js'

const ATTACKER = '0xbad0000000000000000000000000000000000bad' as const
const OTHER_CONTRACT = '0x7777777777777777777777777777777777777777' as const
const GAS = 50_000n
const FEE = 1_000_000_000n
const PER_CALL = GAS * FEE

/** Contract calls are allowed (fees capped at 3 calls a day); the token is denied outright. */
const policy: PolicyBody = {
  version: 1,
  timeZone: 'UTC',
  tokens: [TOKEN_ENTRY],
  budgets: [
    { chainId: CHAIN_ID, asset: TOKEN, perTx: '1000000', rolling24h: '1000000' },
    { chainId: CHAIN_ID, asset: 'native', rolling24h: (PER_CALL * 3n).toString() },
  ],
  rules: [
    { id: 'no-usdc', effect: 'deny', assets: { in: [TOKEN] } },
    { id: 'calls', effect: 'allow', kinds: ['contract_call', 'erc20_approve', 'erc20_transfer'] },
  ],
}
const abi = parseAbi([
  'function increaseAllowance(address spender, uint256 addedValue)',
  'function transferWithAuthorization(address from, address to, uint256 value, uint256 validAfter, uint256 validBefore, bytes32 nonce, uint8 v, bytes32 r, bytes32 s)',
  'function poke(uint256 x)',
])
const call = (to: Hex, data: Hex, nonce = 0): AgentOperation => ({
  op: 'signTransaction',
  transaction: { chainId: CHAIN_ID, to, nonce, gas: GAS.toString(), maxFeePerGas: FEE.toString(), maxPriorityFeePerGas: '1', data },
})

/**
 * Attack: calls to a registry token dressed as anonymous contract calls —
 * `increaseAllowance(attacker, 2^255)` and `USDC.transferWithAuthorization(…)`
 * — and zero-value contract calls that never touched a budget. Token calls are
 * decoded as token actions (deny rules on the token apply) or refused; every
 * transaction's fee counts against the native budget.
 */
describe('adversarial: token calls disguised as contract calls, and zero-value calls', () => {
  const ask = (operation: AgentOperation) => postSign(s.stack.url, signedBody({ agentKey: s.agentKey, wallet: s.wallet, operation }))

  const s = stackWithAgentPerFile(policy)

  it('increaseAllowance(attacker, 2^255) on the token: decoded as an allowance, the deny rule on the token wins', async () => {
    const r = await ask(call(TOKEN, encodeFunctionData({ abi, functionName: 'increaseAllowance', args: [ATTACKER, 1n << 255n] })))
    expect(r.json.signature).toBeUndefined()
    expect(r.json).toMatchObject({ code: 'policy_asset_not_allowed', rule: 'rules.no-usdc' })
  })

  it('USDC.transferWithAuthorization(...) sent as a transaction: refused as an unsupported token call', async () => {
    const data = encodeFunctionData({
      abi,
      functionName: 'transferWithAuthorization',
      args: [s.wallet, ATTACKER, 10n ** 12n, 0n, 2n ** 40n, `0x${randomBytes(32).toString('hex')}`, 27, `0x${'11'.repeat(32)}`, `0x${'22'.repeat(32)}`],
    })
    const r = await ask(call(TOKEN, data))
    expect(r.json.signature).toBeUndefined()
    expect(r.json.code).toBe('sign_token_call_unsupported')
    // The same selector on any other contract is refused too.
    expect((await ask(call(OTHER_CONTRACT, data))).json.code).toBe('sign_token_call_unsupported')
  })

  it('zero-value contract calls count their fee: 3 fit the native budget and sign, the 4th is refused', async () => {
    const results = []
    for (let i = 0; i < 4; i++) results.push(await ask(call(OTHER_CONTRACT, encodeFunctionData({ abi, functionName: 'poke', args: [BigInt(i)] }), i)))
    for (const r of results.slice(0, 3)) {
      expect(r.status).toBe(200)
      expect(await recoverTransactionAddress({ serializedTransaction: r.json.serializedTransaction as never })).toBe(s.wallet)
    }
    expect(results[3]!.json.signature).toBeUndefined()
    expect(results[3]!.json.code).toBe('policy_daily_cap_exceeded')
  })

  it('a plain transfer of the denied token is refused by the same deny rule (the decoded token, not the call shape, decides)', async () => {
    const data = encodeFunctionData({ abi: parseAbi(['function transfer(address to, uint256 amount)']), functionName: 'transfer', args: [MERCHANT, 1n] })
    const r = await ask(call(TOKEN, data, 10))
    expect(r.json.code).toBe('policy_asset_not_allowed')
  })
})
