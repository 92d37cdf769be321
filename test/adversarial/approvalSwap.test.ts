import { randomBytes } from 'node:crypto'
import { type Hex, encodeFunctionData, parseAbi, recoverMessageAddress, recoverTransactionAddress, verifyTypedData } from 'viem'
import { describe, expect, it } from 'vitest'
import type { AgentOperation } from '../../agent/requestSignature.js'
import { CHAIN_ID, MERCHANT, type PolicyBody, TOKEN, TOKEN_ENTRY, eip3009, postSign, signedBody } from '../helpers/agentClient.js'
import { stackWithAgentPerFile } from '../helpers/stackWithAgentPerFile.js'

const DEX = '0x1111111254EEB25477B68fb85Ed929f73A960582' as const
const ROUTER = '0x3fC91A3afd70395Cd496C647d5a6CC9D4B2b7FAD' as const
const ATTACKER = '0xbad0000000000000000000000000000000000bad' as const
const MAX = (1n << 256n) - 1n

/** Everything is out of policy (no rule matches) and goes to the owner; budgets exist so approvals can be spent. */
const policy: PolicyBody = {
  version: 1,
  timeZone: 'UTC',
  tokens: [TOKEN_ENTRY],
  budgets: [
    { chainId: CHAIN_ID, asset: TOKEN, perTx: '1000000', rolling24h: '10000000' },
    { chainId: CHAIN_ID, asset: 'native', perTx: '1000000000000000000', rolling24h: '5000000000000000000' },
  ],
  rules: [
    {
      id: 'ask-owner',
      effect: 'allow',
      kinds: ['erc2612_permit', 'contract_call', 'raw_message', 'eip3009'],
      payTo: { in: ['0x0000000000000000000000000000000000000001'] },
      onViolation: 'pending',
    },
  ],
}

const permit = (wallet: Hex, spender: Hex, value: bigint, deadline: bigint): AgentOperation => ({
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
    message: { owner: wallet, spender, value: value.toString(), nonce: '0', deadline: deadline.toString() },
  },
})
const routerAbi = parseAbi(['function swap(address tokenIn, uint256 amountIn, address to)'])
const routerCall = (args: { to: Hex; amountIn: bigint; priorityFee?: bigint }): AgentOperation => ({
  op: 'signTransaction',
  transaction: {
    chainId: CHAIN_ID,
    to: ROUTER,
    nonce: 0,
    gas: '100000',
    maxFeePerGas: (args.priorityFee ?? 1_000_000_000n).toString(),
    maxPriorityFeePerGas: (args.priorityFee ?? 1_000_000_000n).toString(),
    data: encodeFunctionData({ abi: routerAbi, functionName: 'swap', args: [TOKEN, args.amountIn, args.to] }),
  },
})

/**
 * Attack: a prompt-injected agent asks the owner to approve a harmless
 * request, then asks for something else the approval's summary did not bind:
 * another spender/value/deadline of a Permit, other router arguments or a
 * huge priority fee, another message of the same length, a payment valid
 * until 2^53-1. Each must get no signature; the approved request itself
 * signs, once.
 */
describe('adversarial: an owner approval cannot be swapped for another request', () => {
  const ask = async (operation: AgentOperation) => postSign(s.stack.url, signedBody({ agentKey: s.agentKey, wallet: s.wallet, operation }))
  /** Asks, expects a pending request, approves it as the owner (the CLI path: re-hashes the host's summary). */
  const askAndApprove = async (operation: AgentOperation) => {
    const first = await ask(operation)
    expect(first.json.code, JSON.stringify(first.json)).toBe('approval_pending')
    await s.client.resolvePending(s.wallet, first.json.pendingId as string, true)
  }

  const s = stackWithAgentPerFile(policy)

  it('Permit: approved (DEX, 1) signs; (attacker, 2^256-1, 2^255) gets no signature', async () => {
    const honest = permit(s.wallet, DEX, 1n, 1_900_000_000n)
    await askAndApprove(honest)
    for (const evil of [permit(s.wallet, ATTACKER, MAX, 1n << 255n), permit(s.wallet, DEX, MAX, 1_900_000_000n), permit(s.wallet, DEX, 1n, 1n << 255n)]) {
      const r = await ask(evil)
      expect(r.json.signature).toBeUndefined()
      expect(r.json.code).toBe('approval_pending') // a new request for the owner, not the approved one
    }
    const ok = await ask(honest)
    expect(ok.status).toBe(200)
    const td = (honest as Extract<AgentOperation, { op: 'signTypedData' }>).typedData
    const m = td.message as Record<string, string>
    expect(
      await verifyTypedData({
        // biome-ignore lint/suspicious/noExplicitAny: the request's JSON typed data, checked by viem
        ...({} as any),
        address: s.wallet,
        domain: { ...td.domain, chainId: CHAIN_ID } as never,
        types: td.types as never,
        primaryType: 'Permit',
        message: { owner: m.owner, spender: m.spender, value: BigInt(m.value!), nonce: 0n, deadline: BigInt(m.deadline!) } as never,
        signature: ok.json.signature as Hex,
      }),
    ).toBe(true)
    // Used once: asking again is a new pending request.
    expect((await ask(honest)).json.code).toBe('approval_pending')
  })

  it('contract call: other arguments or a 10^24-wei priority fee get no signature; the approved call signs', async () => {
    const honest = routerCall({ to: s.wallet, amountIn: 5n })
    await askAndApprove(honest)
    const other = await ask(routerCall({ to: ATTACKER, amountIn: 5n }))
    expect(other.json.signature).toBeUndefined()
    expect(other.json.code).toBe('approval_pending')
    const fee = await ask(routerCall({ to: s.wallet, amountIn: 5n, priorityFee: 10n ** 24n }))
    expect(fee.json.signature).toBeUndefined()
    // A new request for the owner, whose summary shows the fee it carries.
    expect(fee.json.code).toBe('approval_pending')
    const shown = (await s.client.wallet(s.wallet)).pending.find((p) => p.pendingId === fee.json.pendingId) as { summary: { action: Record<string, unknown> } }
    expect(shown.summary.action).toMatchObject({ kind: 'contract_call', maxPriorityFeePerGas: (10n ** 24n).toString() })
    const ok = await ask(honest)
    expect(ok.status).toBe(200)
    expect(await recoverTransactionAddress({ serializedTransaction: ok.json.serializedTransaction as never })).toBe(s.wallet)
  })

  it('message: another message of the same length gets no signature; the approved one signs', async () => {
    const honest: AgentOperation = { op: 'signMessage', message: { text: 'log in to example.com' } }
    await askAndApprove(honest)
    const same = await ask({ op: 'signMessage', message: { text: 'pay all to attacker!!' } })
    expect('pay all to attacker!!'.length).toBe('log in to example.com'.length)
    expect(same.json.signature).toBeUndefined()
    expect(same.json.code).toBe('approval_pending')
    const ok = await ask(honest)
    expect(await recoverMessageAddress({ message: 'log in to example.com', signature: ok.json.signature as Hex })).toBe(s.wallet)
  })

  it('payment: the retry with a fresh nonce signs, but one valid until 2^53-1 does not', async () => {
    const first = eip3009({ wallet: s.wallet, value: 700n, to: MERCHANT })
    await askAndApprove(first)
    const forever = eip3009({ wallet: s.wallet, value: 700n, to: MERCHANT })
    ;(forever.typedData.message as Record<string, string>).validBefore = String(2 ** 53 - 1)
    const r = await ask(forever)
    expect(r.json.signature).toBeUndefined()
    expect(r.json.code).toBe('policy_validity_window_too_long')
    // The x402 client's retry: same purchase, fresh nonce and window.
    const retry = await ask(eip3009({ wallet: s.wallet, value: 700n, to: MERCHANT, nonce: `0x${randomBytes(32).toString('hex')}` }))
    expect(retry.status).toBe(200)
    expect(typeof retry.json.signature).toBe('string')
  })
})
