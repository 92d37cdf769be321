import { randomBytes } from 'node:crypto'
import type { Hex, LocalAccount } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { signOwnerAct } from '../../shared/owner/signOwnerAct.js'
import { parsePolicy, policyHash } from '../../shared/schemas/policy.js'
import {
  type AgentSignOk,
  type MaliciousHost,
  type TestAgent,
  eip3009,
  hasSignature,
  newAgent,
  paymentPolicy,
  refusalCode,
  signAgentRequest,
  startWithAgent,
  verifyPayment,
} from '../helpers/maliciousHost.js'

/**
 * Attack: the host makes up owner acts to widen an agent's policy, unfreeze
 * it, register its own agent or take the wallet — signed with its own key,
 * with random bytes, with a real owner's signature from another wallet, or
 * with a policy text other than the one the owner signed. Each is refused by
 * its exact code, the owner's seq does not move, the over-cap payment stays
 * refused, and the real owner's next act applies.
 */
describe('adversarial: forged owner acts (real enclave)', () => {
  let host: MaliciousHost
  let owner: LocalAccount
  let wallet: Hex
  let agent: TestAgent
  const hostKey = privateKeyToAccount(generatePrivateKey())
  const pay = (value: bigint) => signAgentRequest({ agent, wallet, operation: eip3009({ wallet, value }) })
  let seq0: number

  beforeAll(async () => {
    ;({ host, owner, wallet, agent } = await startWithAgent(paymentPolicy({ perTx: '1000', rolling24h: '100000' })))
    await host.waitAgentFloor()
    seq0 = await host.ownerSeq(wallet)
  })
  afterAll(async () => {
    await host?.stop()
  })

  const widened = () => parsePolicy({ ...paymentPolicy({ perTx: '1000000', rolling24h: '100000000', version: 2 }), wallet, agentId: agent.agentId })

  it("a policy widening signed by the host's key → owner_not_authorized", async () => {
    const p = widened()
    const body = await signOwnerAct({ account: hostKey, primaryType: 'SetPolicy', message: { wallet, agentId: agent.agentId, version: '2', policyHash: policyHash(p), seq: String(seq0 + 1) } })
    expect(refusalCode(await host.call({ type: 'ownerAct', ...body, policy: JSON.stringify(p) }))).toBe('owner_not_authorized')
  })

  it('random signature bytes → owner_signature_invalid; an unknown act type → owner_act_invalid', async () => {
    const p = widened()
    const body = await signOwnerAct({ account: owner, primaryType: 'SetPolicy', message: { wallet, agentId: agent.agentId, version: '2', policyHash: policyHash(p), seq: String(seq0 + 1) } })
    const junk = `0x${randomBytes(65).toString('hex')}`
    const r1 = await host.call({ type: 'ownerAct', ...body, signature: junk, policy: JSON.stringify(p) })
    expect(['owner_signature_invalid', 'owner_not_authorized']).toContain(refusalCode(r1))
    expect(refusalCode(await host.call({ type: 'ownerAct', ...body, signature: '0x1234', policy: JSON.stringify(p) }))).toBe('owner_signature_invalid')
    expect(refusalCode(await host.call({ type: 'ownerAct', ...body, primaryType: 'GrantEverything' }))).toBe('owner_act_invalid')
  })

  it("another wallet's real owner signature moved onto this wallet → owner_not_authorized; a host agent cannot be registered", async () => {
    const stranger = privateKeyToAccount(generatePrivateKey())
    const strangerWallet = await host.createWallet(stranger, 'stranger')
    expect(strangerWallet).not.toBe(wallet)
    const body = await signOwnerAct({ account: stranger, primaryType: 'FreezeAgent', message: { wallet, agentId: agent.agentId, frozen: true, seq: String(seq0 + 1) } })
    expect(refusalCode(await host.call({ type: 'ownerAct', ...body }))).toBe('owner_not_authorized')
    const mine = newAgent()
    const reg = await signOwnerAct({ account: hostKey, primaryType: 'RegisterAgent', message: { wallet, agentId: mine.agentId, agentPublicKey: mine.publicKeyHex, label: 'host', seq: String(seq0 + 1) } })
    expect(refusalCode(await host.call({ type: 'ownerAct', ...reg }))).toBe('owner_not_authorized')
  })

  it("the owner's real SetPolicy with a wider policy text swapped in → policy_hash_mismatch", async () => {
    const honest = parsePolicy({ ...paymentPolicy({ perTx: '1000', rolling24h: '100000', version: 2 }), wallet, agentId: agent.agentId })
    const body = await signOwnerAct({ account: owner, primaryType: 'SetPolicy', message: { wallet, agentId: agent.agentId, version: '2', policyHash: policyHash(honest), seq: String(seq0 + 1) } })
    expect(refusalCode(await host.call({ type: 'ownerAct', ...body, policy: JSON.stringify(widened()) }))).toBe('policy_hash_mismatch')
  })

  it('nothing moved: same owner seq, the over-cap payment is refused; the real owner act applies and honest traffic signs', async () => {
    expect(await host.ownerSeq(wallet)).toBe(seq0)
    const over = await host.agentSign(pay(5000n))
    expect(refusalCode(over)).toBe('policy_per_tx_cap_exceeded')
    expect(hasSignature(over)).toBe(false)
    const act = await host.walletAct(owner, 'FreezeAgent', wallet, { agentId: agent.agentId, frozen: false })
    expect(act.ok).toBe(true)
    const req = pay(1000n)
    const r = await host.agentSign(req)
    expect(r.ok).toBe(true)
    expect(await verifyPayment(wallet, req.parsed, (r as { result: AgentSignOk }).result.signature)).toBe(true)
  })
})
