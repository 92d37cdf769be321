import { type Hex, encodeFunctionData, erc20Abi, parseAbi, recoverTransactionAddress } from 'viem'
import { beforeAll, describe, expect, it } from 'vitest'
import type { AgentOperation } from '../../agent/requestSignature.js'
import type { AgentKey } from '../../agent/loadAgentKey.js'
import { setupAgent } from '../../scripts/devchain/setupAgent.js'
import { CHAIN_ID, MERCHANT, type PolicyBody, TOKEN, TOKEN_ENTRY, postSign, signedBody } from '../helpers/agentClient.js'
import { stackWithAgentPerFile } from '../helpers/stackWithAgentPerFile.js'

const PERMIT2 = '0x000000000022D473030F116dDEE9F6B43aC78BA3' as const
const ATTACKER = '0xbad0000000000000000000000000000000000bad' as const
const DEX = '0x1111111254EEB25477B68fb85Ed929f73A960582' as const

/** Allowances of every kind are allowed (capped); one address is denied as a payee. */
const policy: PolicyBody = {
  version: 1,
  timeZone: 'UTC',
  tokens: [TOKEN_ENTRY],
  budgets: [
    { chainId: CHAIN_ID, asset: TOKEN, perTx: '1000', rolling24h: '100000' },
    { chainId: CHAIN_ID, asset: 'native', perTx: '1000000000000000', rolling24h: '100000000000000000' },
  ],
  rules: [
    { id: 'no-attacker', effect: 'deny', payTo: { in: [ATTACKER] } },
    { id: 'allowances', effect: 'allow', kinds: ['erc20_approve', 'erc2612_permit', 'permit2_allowance', 'permit2_approve', 'permit2_transfer'], chains: { in: [CHAIN_ID] } },
  ],
}
/** The same exclusion written as an allow rule's blacklist. */
const notInPolicy: PolicyBody = {
  ...policy,
  rules: [{ id: 'allowances-but-attacker', effect: 'allow', kinds: ['erc20_approve', 'erc2612_permit', 'permit2_allowance', 'permit2_approve', 'permit2_transfer'], payTo: { notIn: [ATTACKER] } }],
}
const tx = (to: Hex, data: Hex): AgentOperation => ({
  op: 'signTransaction',
  transaction: { chainId: CHAIN_ID, to, nonce: 0, gas: '60000', maxFeePerGas: '1000000000', maxPriorityFeePerGas: '1', data },
})
const erc20 = parseAbi(['function approve(address,uint256)', 'function increaseAllowance(address,uint256)'])
const permit2Abi = parseAbi(['function approve(address token, address spender, uint160 amount, uint48 expiration)'])
const inAMinute = () => String(Math.floor(Date.now() / 1000) + 60)

const attacks = (wallet: Hex, spender: Hex): [string, AgentOperation][] => [
  ['ERC-20 approve', tx(TOKEN, encodeFunctionData({ abi: erc20, functionName: 'approve', args: [spender, 10n] }))],
  ['ERC-20 increaseAllowance', tx(TOKEN, encodeFunctionData({ abi: erc20, functionName: 'increaseAllowance', args: [spender, 10n] }))],
  ['Permit2.approve', tx(PERMIT2, encodeFunctionData({ abi: permit2Abi, functionName: 'approve', args: [TOKEN, spender, 10n, 2_000_000_000] }))],
  [
    'EIP-2612 Permit',
    {
      op: 'signTypedData',
      typedData: {
        domain: { name: TOKEN_ENTRY.name, version: TOKEN_ENTRY.version, chainId: CHAIN_ID, verifyingContract: TOKEN },
        types: {
          Permit: [
            { name: 'owner', type: 'address' },
            { name: 'spender', type: 'address' },
            { name: 'value', type: 'uint256' },
            { name: 'nonce', type: 'uint256' },
            { name: 'deadline', type: 'uint256' },
          ],
        },
        primaryType: 'Permit',
        message: { owner: wallet, spender, value: '10', nonce: '0', deadline: inAMinute() },
      },
    },
  ],
  [
    'Permit2 PermitSingle',
    {
      op: 'signTypedData',
      typedData: {
        domain: { name: 'Permit2', chainId: CHAIN_ID, verifyingContract: PERMIT2 },
        types: {
          PermitSingle: [
            { name: 'details', type: 'PermitDetails' },
            { name: 'spender', type: 'address' },
            { name: 'sigDeadline', type: 'uint256' },
          ],
          PermitDetails: [
            { name: 'token', type: 'address' },
            { name: 'amount', type: 'uint160' },
            { name: 'expiration', type: 'uint48' },
            { name: 'nonce', type: 'uint48' },
          ],
        },
        primaryType: 'PermitSingle',
        message: { details: { token: TOKEN, amount: '10', expiration: inAMinute(), nonce: '0' }, spender, sigDeadline: inAMinute() },
      },
    },
  ],
  [
    'Permit2 PermitTransferFrom',
    {
      op: 'signTypedData',
      typedData: {
        domain: { name: 'Permit2', chainId: CHAIN_ID, verifyingContract: PERMIT2 },
        types: {
          PermitTransferFrom: [
            { name: 'permitted', type: 'TokenPermissions' },
            { name: 'spender', type: 'address' },
            { name: 'nonce', type: 'uint256' },
            { name: 'deadline', type: 'uint256' },
          ],
          TokenPermissions: [
            { name: 'token', type: 'address' },
            { name: 'amount', type: 'uint256' },
          ],
        },
        primaryType: 'PermitTransferFrom',
        message: { permitted: { token: TOKEN, amount: '10' }, spender, nonce: '7', deadline: inAMinute() },
      },
    },
  ],
]

/**
 * Attack: the owner denies an address as a payee (`payTo: { in: [attacker] }`
 * in a deny rule); a prompt-injected agent instead grants the attacker an
 * allowance — approve, increaseAllowance, Permit2.approve, an EIP-2612
 * Permit, a Permit2 allowance or transfer permit — so the attacker pulls the
 * funds itself. A deny rule's payee list now also matches spenders: every
 * one is refused with `policy_payto_not_allowed` by `rules.no-attacker`; the
 * same allowances to another spender sign. The same holds for an allow
 * rule's blacklist (`payTo: { notIn: [attacker] }`).
 */
describe('adversarial: a denied payee approved as a spender', () => {
  let notInAgent: AgentKey
  const ask = (operation: AgentOperation, agentKey = s.agentKey) => postSign(s.stack.url, signedBody({ agentKey, wallet: s.wallet, operation }))

  const s = stackWithAgentPerFile(policy)
  beforeAll(async () => {
    notInAgent = (await setupAgent({ host: s.stack.url, owner: s.owner, wallet: s.wallet, policy: notInPolicy })).agentKey
  })

  it('every allowance kind to the denied address: no signature, policy_payto_not_allowed (rules.no-attacker)', async () => {
    for (const [name, op] of attacks(s.wallet, ATTACKER)) {
      const r = await ask(op)
      expect(r.json.signature, `${name}: ${JSON.stringify(r.json)}`).toBeUndefined()
      expect(r.json, name).toMatchObject({ code: 'policy_payto_not_allowed', rule: 'rules.no-attacker' })
    }
  })

  it('the same exclusion as an allow rule `payTo: { notIn: [attacker] }`: every allowance kind refused, policy_payto_not_allowed', async () => {
    for (const [name, op] of attacks(s.wallet, ATTACKER)) {
      const r = await ask(op, notInAgent)
      expect(r.json.signature, `${name}: ${JSON.stringify(r.json)}`).toBeUndefined()
      expect(r.json, name).toMatchObject({ code: 'policy_payto_not_allowed', rule: 'rules.allowances-but-attacker' })
    }
  })

  it('honest: the same allowances to another spender sign, under both policies', async () => {
    const cases: [string, AgentOperation, AgentKey][] = [
      ...attacks(s.wallet, DEX).map(([n, o]): [string, AgentOperation, AgentKey] => [n, o, s.agentKey]),
      ...attacks(s.wallet, DEX).map(([n, o]): [string, AgentOperation, AgentKey] => [`${n} (notIn)`, o, notInAgent]),
    ]
    for (const [name, op, agentKey] of cases) {
      const r = await ask(op, agentKey)
      expect(r.status, `${name}: ${JSON.stringify(r.json)}`).toBe(200)
      expect(typeof r.json.signature).toBe('string')
      if (op.op === 'signTransaction') {
        expect(await recoverTransactionAddress({ serializedTransaction: r.json.serializedTransaction as never })).toBe(s.wallet)
      }
    }
  })

  it('a plain transfer to the denied payee is still refused by the deny rule (before any allow rule)', async () => {
    const pay = (to: Hex) => tx(TOKEN, encodeFunctionData({ abi: erc20Abi, functionName: 'transfer', args: [to, 1n] }))
    const bad = await ask(pay(ATTACKER))
    expect(bad.json.signature).toBeUndefined()
    expect(bad.json).toMatchObject({ code: 'policy_payto_not_allowed', rule: 'rules.no-attacker' })
    // erc20_transfer is not in the allow rule's kinds: the merchant transfer is refused for that, not by the deny rule.
    expect((await ask(pay(MERCHANT))).json.code).toBe('policy_kind_not_allowed')
  })
})
