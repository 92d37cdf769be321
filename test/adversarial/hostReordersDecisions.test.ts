import { describe, expect, it } from 'vitest'
import { sendDecision, viewAndDecision } from '../helpers/governanceRelay.js'
import { hostWithWalletPerFile } from '../helpers/hostWithWalletPerFile.js'
import { newAgent, refusalCode } from '../helpers/maliciousHost.js'

/**
 * Attack (malicious host, issue 12 stage B): the owner sends two acts for the same seq of one wallet — a RegisterAgent,
 * then, changing their mind, a different one (say the first named the wrong key). The host relays both views and
 * holds both decisions, then delivers them in the order it likes: the superseded act's decision first. The signer
 * keeps one outstanding view per wallet (the newest replaces the older), so the older decision is governance_stale
 * and only the owner's latest act can land.
 */
describe('adversarial: the host reorders governance decisions (real signer and governance processes)', () => {
  const s = hostWithWalletPerFile()

  it("the superseded act's decision, delivered first, is governance_stale; the newest applies", async () => {
    const { host, owner, wallet } = s
    const [wrong, right] = [newAgent(), newAgent()]
    const older = await viewAndDecision(host, owner, 'RegisterAgent', { wallet, agentId: wrong.agentId, agentPublicKey: wrong.publicKeyHex, label: 'wrong', seq: '1' })
    const newer = await viewAndDecision(host, owner, 'RegisterAgent', { wallet, agentId: right.agentId, agentPublicKey: right.publicKeyHex, label: 'right', seq: '1' })
    expect(refusalCode(await sendDecision(host, older.body, older.decision))).toBe('governance_stale')
    expect(await host.ownerSeq(wallet)).toBe(0)
    expect((await sendDecision(host, newer.body, newer.decision)).ok).toBe(true)
    const agents = (await host.wallets()).find((w) => w.address.toLowerCase() === wallet.toLowerCase())!.agents
    expect(agents.map((a) => a.agentId)).toEqual([right.agentId])
  })
})
