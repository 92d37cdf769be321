import type { Hex, LocalAccount } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { hostWithWallet, sendDecision, viewAndDecision } from '../helpers/governanceRelay.js'
import { type MaliciousHost, newAgent, refusalCode } from '../helpers/maliciousHost.js'

/**
 * Attack (malicious host, issue 12 stage B): an owner has two wallets and acts on both at once. The host sends the
 * decision governance made for wallet A back with the act for wallet B (and the reverse) — e.g. to land A's agent
 * registration where B's owner asked for something else. The signer applies a decision only with the act its view was
 * made of: governance_decision_invalid, nothing applied on either wallet; the right pairs then apply.
 */
describe('adversarial: a governance decision relayed for another wallet (real signer and governance processes)', () => {
  let host: MaliciousHost
  let owner: LocalAccount
  let walletA: Hex
  let walletB: Hex
  beforeAll(async () => {
    ;({ host, owner, wallet: walletA } = await hostWithWallet())
    walletB = await host.createWallet(owner, 'b')
  })
  afterAll(async () => {
    await host?.stop()
  })

  it("A's decision with B's act (and B's with A's) is governance_decision_invalid; each with its own act applies", async () => {
    const [a, b] = [newAgent(), newAgent()]
    const onA = await viewAndDecision(host, owner, 'RegisterAgent', { wallet: walletA, agentId: a.agentId, agentPublicKey: a.publicKeyHex, label: 'a', seq: '1' })
    const onB = await viewAndDecision(host, owner, 'RegisterAgent', { wallet: walletB, agentId: b.agentId, agentPublicKey: b.publicKeyHex, label: 'b', seq: '1' })
    expect(refusalCode(await sendDecision(host, onB.body, onA.decision))).toBe('governance_decision_invalid')
    expect(refusalCode(await sendDecision(host, onA.body, onB.decision))).toBe('governance_decision_invalid')
    expect([await host.ownerSeq(walletA), await host.ownerSeq(walletB)]).toEqual([0, 0])
    // The refused pairs used up those views: the owner's acts go through again, each with its own decision.
    const againA = await viewAndDecision(host, owner, 'RegisterAgent', { wallet: walletA, agentId: a.agentId, agentPublicKey: a.publicKeyHex, label: 'a', seq: '1' })
    const againB = await viewAndDecision(host, owner, 'RegisterAgent', { wallet: walletB, agentId: b.agentId, agentPublicKey: b.publicKeyHex, label: 'b', seq: '1' })
    expect((await sendDecision(host, againA.body, againA.decision)).ok).toBe(true)
    expect((await sendDecision(host, againB.body, againB.decision)).ok).toBe(true)
    const agentsOf = async (w: Hex) => (await host.wallets()).find((x) => x.address.toLowerCase() === w.toLowerCase())!.agents.map((x) => x.agentId)
    expect([await agentsOf(walletA), await agentsOf(walletB)]).toEqual([[a.agentId], [b.agentId]])
  })
})
