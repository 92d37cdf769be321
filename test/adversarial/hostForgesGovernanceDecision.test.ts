import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { DECISION_DOMAIN, VIEW_DOMAIN, openLink, sealLink } from '../../shared/governance/linkMac.js'
import { sendDecision, viewAndDecision } from '../helpers/governanceRelay.js'
import { hostWithWalletPerFile } from '../helpers/hostWithWalletPerFile.js'
import { newAgent, refusalCode } from '../helpers/maliciousHost.js'

/**
 * Attack (malicious host, issue 12 stage B): the host relays owner acts between the signer and governance's process,
 * so it holds every view and decision — but not the link key (it only ever sees it sealed for governance). It forges
 * the decision: governance's answer for a RegisterAgent edited to register the host's own agent key, or a decision
 * of its own MACed under a key it chose; and it asks governance to decide a view it wrote itself. Each is refused
 * (governance_decision_invalid; governance refuses the forged view) and nothing is applied; the honest decision still is.
 */
describe('adversarial: the host forges a governance decision (real signer and governance processes)', () => {
  const s = hostWithWalletPerFile()

  it('an edited or re-MACed decision is governance_decision_invalid; a forged view is refused by governance; the honest decision applies', async () => {
    const { host, owner, wallet } = s
    const agent = newAgent()
    const theirs = newAgent()
    const parts = await viewAndDecision(host, owner, 'RegisterAgent', { wallet, agentId: agent.agentId, agentPublicKey: agent.publicKeyHex, label: 'a', seq: '1' })
    const text = Buffer.from(parts.decision).toString('utf8')
    expect(text).toContain(agent.agentId)
    // The honest decision with the host's agent key in place of the owner's: the MAC no longer checks.
    const edited = Buffer.from(text.replaceAll(agent.agentId, theirs.agentId).replaceAll(agent.publicKeyHex.slice(2).toLowerCase(), theirs.publicKeyHex.slice(2).toLowerCase()))
    expect(refusalCode(await sendDecision(host, parts.body, edited))).toBe('governance_decision_invalid')
    // The same edit, re-MACed under a key the host chose.
    const body = openLink(randomBytes(32), DECISION_DOMAIN, parts.decision) ?? JSON.parse(text.split('\n').slice(2).join('\n'))
    expect(refusalCode(await sendDecision(host, parts.body, sealLink(randomBytes(32), DECISION_DOMAIN, body)))).toBe('governance_decision_invalid')
    // A view the host wrote (under its own key) for governance to decide: governance refuses it.
    const view = JSON.parse(Buffer.from(parts.view).toString('utf8').split('\n').slice(2).join('\n'))
    const forged = await host.decide(sealLink(randomBytes(32), VIEW_DOMAIN, view), parts.link)
    expect(refusalCode(forged)).toBe('governance_decision_invalid')
    expect(await host.ownerSeq(wallet)).toBe(0)
    expect((await host.wallets()).find((w) => w.address.toLowerCase() === wallet.toLowerCase())!.agents).toEqual([])
    // The forged decisions did not use up the view: governance's own decision still applies, for the owner's agent.
    const ok = await sendDecision(host, parts.body, parts.decision)
    expect(ok.ok).toBe(true)
    const agents = (await host.wallets()).find((w) => w.address.toLowerCase() === wallet.toLowerCase())!.agents
    expect(agents.map((a) => a.agentId)).toEqual([agent.agentId])
  })
})
