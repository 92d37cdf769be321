import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { beforeAll, describe, expect, it } from 'vitest'
import { OwnerClient } from '../../cli/lib/OwnerClient.js'
import { signOwnerAct } from '../../shared/owner/signOwnerAct.js'
import { CHAIN_ID, TOKEN, MERCHANT, eip3009, paymentPolicy, postSign, signedBody, verifyEip3009, waitAgentFloor } from '../helpers/agentClient.js'
import { stackWithAgentPerFile } from '../helpers/stackWithAgentPerFile.js'
import { setupAgent } from '../../scripts/devchain/setupAgent.js'

const U64_MAX = ((1n << 64n) - 1n).toString()
const ABOVE_SAFE = (2n ** 53n + 1n).toString()
const ABOVE_U256 = (1n << 256n).toString()

/**
 * Finding 1 of issue 13 (reproduced on 3d8d5af): a stranger who creates his
 * own wallet signs owner acts whose integers are valid EIP-712 but out of
 * range for what they mean (IssuePermit.expiresAt = 2^64 − 1,
 * CreditBudget.chainId = 2^53 + 1 or 0, …). Converted with Number(), they
 * made ledger events that failed validation inside the writer, and the
 * enclave halted — for every wallet, again after every restart. Now each is
 * refused by its schema (owner_act_invalid, HTTP 400) before anything
 * changes; the enclave stays ready and the victim's payments and freeze work.
 */
describe('halt by integer: out-of-range integers in owner acts are refused, never halt the enclave', () => {
  const stranger = privateKeyToAccount(generatePrivateKey())
  let strangerWallet: `0x${string}`
  let strangerAgent: string
  const sent: Array<{ name: string; body: Record<string, unknown> }> = []

  const victim = stackWithAgentPerFile(paymentPolicy({ perTx: '1000000', rolling24h: '5000000' }))
  beforeAll(async () => {
    const c = new OwnerClient(victim.stack.url, stranger)
    strangerWallet = (await c.createWallet('stranger')).wallet
    strangerAgent = (await setupAgent({ host: victim.stack.url, owner: stranger, wallet: strangerWallet, policy: paymentPolicy({ perTx: '1', rolling24h: '1' }) })).agentKey.agentId
  })

  const ready = async () => (await fetch(`${victim.stack.url}/readyz`)).status
  const postRaw = async (body: Record<string, unknown>) => {
    const res = await fetch(`${victim.stack.url}/v1/owner/acts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
    return { status: res.status, json: (await res.json()) as { code?: string; message?: string } }
  }
  const seqOf = async () => (await new OwnerClient(victim.stack.url, stranger).wallet(strangerWallet)).ownerSeq

  it('every hostile integer is refused with owner_act_invalid and the enclave stays ready', async () => {
    // This stack runs with open wallet creation (the simulation default), and says so loudly.
    expect(victim.stack.logs.join('')).toMatch(/WALLET CREATION IS OPEN/)
    const seq = String((await seqOf()) + 1)
    const permit = { wallet: strangerWallet, agentId: strangerAgent, permitId: 'pmt_x', chainId: String(CHAIN_ID), asset: TOKEN, amount: '1', payTo: MERCHANT, host: '', expiresAt: String(Date.now() + 60_000), exceedCaps: false, seq }
    const credit = { wallet: strangerWallet, agentId: strangerAgent, chainId: String(CHAIN_ID), asset: TOKEN, amount: '1', seq }
    const cases: Array<[string, Parameters<typeof signOwnerAct>[0]['primaryType'], Record<string, unknown>]> = [
      ['IssuePermit.expiresAt = 2^64-1', 'IssuePermit', { ...permit, expiresAt: U64_MAX }],
      ['IssuePermit.chainId = 2^53+1', 'IssuePermit', { ...permit, chainId: ABOVE_SAFE }],
      ['CreditBudget.chainId = 2^53+1', 'CreditBudget', { ...credit, chainId: ABOVE_SAFE }],
      ['CreditBudget.chainId = 0', 'CreditBudget', { ...credit, chainId: '0' }],
      ['FreezeAgent.seq = 2^64-1', 'FreezeAgent', { wallet: strangerWallet, agentId: strangerAgent, frozen: true, seq: U64_MAX }],
      ['CreateWallet.issuedAt = 2^64-1', 'CreateWallet', { owner: stranger.address, label: 'x', nonce: `0x${'11'.repeat(32)}`, issuedAt: U64_MAX, auditChain: `0x${'00'.repeat(32)}` }],
      ['SetPolicy.version = 2^64-1', 'SetPolicy', { wallet: strangerWallet, agentId: strangerAgent, version: U64_MAX, policyHash: `0x${'22'.repeat(32)}`, seq }],
    ]
    for (const [name, primaryType, message] of cases) {
      const body = await signOwnerAct({ account: stranger, primaryType, message })
      sent.push({ name, body })
      const r = await postRaw(body)
      expect({ name, status: r.status, code: r.json.code }).toEqual({ name, status: 400, code: 'owner_act_invalid' })
      expect(await ready()).toBe(200)
    }
    // A uint256 amount above 2^256 - 1 cannot even be signed as EIP-712; the schema refuses it before the signature.
    const over = { primaryType: 'CreditBudget', message: JSON.stringify({ ...credit, amount: ABOVE_U256 }), signature: `0x${'00'.repeat(65)}` }
    sent.push({ name: 'CreditBudget.amount = 2^256', body: over })
    const r = await postRaw(over)
    expect([r.status, r.json.code]).toEqual([400, 'owner_act_invalid'])
    expect(r.json.message).toMatch(/amount/)
    expect(await ready()).toBe(200)
    // Nothing changed: the refused acts did not move the stranger's seq.
    expect(await seqOf()).toBe(Number(seq) - 1)
  })

  it('after a restart the same signed bodies are still refused; honest owners and agents carry on', async () => {
    await victim.stack.stopEnclave()
    await victim.stack.startEnclave()
    await victim.stack.waitReady()
    for (const { name, body } of sent) {
      const r = await postRaw(body)
      expect({ name, status: r.status, code: r.json.code }).toEqual({ name, status: 400, code: 'owner_act_invalid' })
    }
    expect(await ready()).toBe(200)
    // Honest traffic: the victim's agent pays (signature checked by viem), then the victim freezes it.
    await waitAgentFloor()
    const op = eip3009({ wallet: victim.wallet, value: 1000n })
    const paid = await postSign(victim.stack.url, signedBody({ agentKey: victim.agentKey, wallet: victim.wallet, operation: op }))
    expect(paid.status).toBe(200)
    expect(await verifyEip3009(victim.wallet, op, paid.json.signature as `0x${string}`)).toBe(true)
    const frozen = await victim.client.act('FreezeAgent', victim.wallet, { agentId: victim.agentKey.agentId, frozen: true })
    expect(frozen.frozen).toBe(true)
    const after = await postSign(victim.stack.url, signedBody({ agentKey: victim.agentKey, wallet: victim.wallet, operation: eip3009({ wallet: victim.wallet, value: 1000n }) }))
    expect(after.json.code).toBe('agent_frozen')
    // And a well-formed act by the stranger still works (typed refusals lost nothing).
    const ok = await new OwnerClient(victim.stack.url, stranger).act('FreezeAgent', strangerWallet, { agentId: strangerAgent, frozen: true })
    expect(ok.receipt.act).toBe('FreezeAgent')
  }, 60_000)
})
