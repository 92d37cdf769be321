import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { sendDecision, viewAndDecision } from '../helpers/governanceRelay.js'
import { hostWithWalletPerFile } from '../helpers/hostWithWalletPerFile.js'
import { newAgent, refusalCode } from '../helpers/maliciousHost.js'

/**
 * Attack (malicious host, issue 12 stage B): the host keeps the governance decisions it relayed and sends one again —
 * a CreateWallet's (no ownerSeq binds it: without the hash binding a replay makes a second wallet from one signed
 * act), an agent registration's after the wallet moved on, and one across a restart of the signer. The signer applies
 * a decision only for a view it sent and still awaits, once: each replay is governance_stale and changes nothing.
 */
describe('adversarial: the host replays a governance decision (real signer and governance processes)', () => {
  const s = hostWithWalletPerFile()

  it('a CreateWallet decision sent twice makes one wallet: the second is governance_stale', async () => {
    const { host, owner } = s
    const before = (await host.wallets()).length
    const parts = await viewAndDecision(host, owner, 'CreateWallet', { owner: owner.address, label: 'once', nonce: `0x${randomBytes(32).toString('hex')}`, issuedAt: String(Date.now()), auditChain: await host.auditChain() })
    expect((await sendDecision(host, parts.body, parts.decision)).ok).toBe(true)
    expect(refusalCode(await sendDecision(host, parts.body, parts.decision))).toBe('governance_stale')
    expect((await host.wallets()).length).toBe(before + 1)
  })

  it('a wallet act decision sent again after the next act, and after a signer restart, is governance_stale', async () => {
    const { host, owner, wallet } = s
    const a = newAgent()
    const first = await viewAndDecision(host, owner, 'RegisterAgent', { wallet, agentId: a.agentId, agentPublicKey: a.publicKeyHex, label: 'a', seq: '1' })
    expect((await sendDecision(host, first.body, first.decision)).ok).toBe(true)
    const b = newAgent()
    expect((await host.walletAct(owner, 'RegisterAgent', wallet, { agentId: b.agentId, agentPublicKey: b.publicKeyHex, label: 'b' })).ok).toBe(true)
    expect(refusalCode(await sendDecision(host, first.body, first.decision))).toBe('governance_stale')
    await host.restartEnclave()
    expect((await host.bootstrapHonest()).ok).toBe(true)
    expect(refusalCode(await sendDecision(host, first.body, first.decision))).toBe('governance_stale')
    expect(await host.ownerSeq(wallet)).toBe(2)
  })
})
