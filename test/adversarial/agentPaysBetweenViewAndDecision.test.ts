import type { Hex, LocalAccount } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { hostWithWallet, sendDecision, viewAndDecision } from '../helpers/governanceRelay.js'
import { CHAIN_ID, type MaliciousHost, TOKEN, type TestAgent, eip3009, newAgent, paymentPolicy, refusalCode, signAgentRequest } from '../helpers/maliciousHost.js'
import { ASK_OWNERS_POLICY } from '../helpers/quorumWallet.js'
import { type SimClock, simClock } from '../helpers/simClock.js'

const HOUR = 3_600_000

/**
 * Attack (malicious agent, or a host ordering frames; issue 12 stage B): a held act (a budget credit, a permit) the
 * owners accepted falls due. An owner act on the wallet is in flight: the signer sent governance its view, in which the
 * held act is due, so governance's decision applies it first. Before the decision comes back, an agent turn on the
 * wallet applies the due act on the agent path (it always does). The decision then applied it a second time: a credit
 * counted twice (the agent spent past its budget), a permit issued twice halted the signer (a ledger event that no
 * longer fits is a broken invariant). The signer must refuse a decision whose view no longer matches the wallet's held
 * acts or ledger (governance_stale), applying nothing; the act sent again then applies once.
 */
describe('adversarial: an agent pays between an owner act\'s view and its decision (real signer and governance processes)', () => {
  let host: MaliciousHost
  let owner: LocalAccount
  let wallet: Hex
  let clock: SimClock
  let agent: TestAgent
  const other = newAgent()
  beforeAll(async () => {
    clock = simClock()
    ;({ host, owner, wallet } = await hostWithWallet(clock.env))
    ;({ agent } = await host.setupAgent(owner, wallet, paymentPolicy({ perTx: '1000', rolling24h: '1000' })))
    expect((await host.walletAct(owner, 'RegisterAgent', wallet, { agentId: other.agentId, agentPublicKey: other.publicKeyHex, label: 'b' })).ok).toBe(true)
    const one = { stopQuorum: '1', approveQuorum: '1', loosenQuorum: '1', agentsQuorum: '1', ownersQuorum: '1' }
    expect((await host.walletAct(owner, 'SetOwners', wallet, { owners: [owner.address], ...one, delaySeconds: String(HOUR / 1000) })).ok).toBe(true)
    await host.waitAgentFloor()
  })
  afterAll(async () => {
    clock?.restore()
    await host?.stop()
  })
  const pay = (value: bigint) => host.agentSign(signAgentRequest({ agent, wallet, operation: eip3009({ wallet, value }) }))
  const heldEntries = (actHash: string) => host.entries.map((t) => JSON.parse(t) as { event: string; requestId?: string }).filter((e) => e.requestId === actHash && e.event !== 'act_scheduled')
  /** An owner act that applies at once (a stop), its view taken now; its decision is returned, not sent. */
  const freezeOther = async (frozen: boolean) => viewAndDecision(host, owner, 'FreezeAgent', { wallet, agentId: other.agentId, frozen, seq: String((await host.ownerSeq(wallet)) + 1) })

  it('a held budget credit counts once: the decision after the agent\'s turn is governance_stale', async () => {
    expect((await pay(1000n)).ok).toBe(true)
    expect(refusalCode(await pay(1n))).toMatch(/budget|limit|exceed/)
    const credit = await host.walletAct(owner, 'CreditBudget', wallet, { agentId: agent.agentId, chainId: String(CHAIN_ID), asset: TOKEN, amount: '1000' })
    expect(credit.ok).toBe(true)
    const actHash = (credit as { result: { scheduled: { actHash: string } } }).result.scheduled.actHash
    clock.advanceTo(Date.now() + HOUR)
    const parts = await freezeOther(true) // governance's view: the credit is due, the decision applies it
    expect((await pay(1000n)).ok).toBe(true) // the agent's turn applies the due credit and spends it
    expect(refusalCode(await sendDecision(host, parts.body, parts.decision))).toBe('governance_stale')
    expect(refusalCode(await pay(1000n))).toMatch(/budget|limit|exceed/) // spent 2,000 of 1,000 + one credit of 1,000
    expect(heldEntries(actHash).map((e) => e.event)).toEqual(['budget_released'])
    expect((await host.walletAct(owner, 'FreezeAgent', wallet, { agentId: other.agentId, frozen: true })).ok).toBe(true)
    expect(heldEntries(actHash)).toHaveLength(1)
  })

  it('a held permit issued on the agent path is not issued again by the decision: no halt, the signer keeps signing', async () => {
    const permit = { agentId: agent.agentId, permitId: 'p-held', chainId: String(CHAIN_ID), asset: TOKEN, amount: '1', payTo: '0x209693Bc6afc0C5328bA36FaF03C514EF312287C', host: '', expiresAt: String(Date.now() + 3 * HOUR), exceedCaps: false }
    const issued = await host.walletAct(owner, 'IssuePermit', wallet, permit)
    expect(issued.ok).toBe(true)
    const actHash = (issued as { result: { scheduled: { actHash: string } } }).result.scheduled.actHash
    clock.advanceTo(Date.now() + HOUR)
    const parts = await freezeOther(false)
    await pay(1n) // any agent turn on the wallet applies the due permit (this one is over budget: refused, still a turn)
    expect(heldEntries(actHash).map((e) => e.event)).toEqual(['permit_issued'])
    expect(refusalCode(await sendDecision(host, parts.body, parts.decision))).toBe('governance_stale')
    expect(host.logs.join('')).not.toMatch(/halt/i)
    const again = await host.walletAct(owner, 'FreezeAgent', wallet, { agentId: other.agentId, frozen: false })
    expect(again.ok ? 'ok' : again.error.code).toBe('ok')
    expect(heldEntries(actHash)).toHaveLength(1)
  })

  it('an approval whose pending the agent path swept (expired) is governance_stale, not a halt', async () => {
    const { host: h2, owner: o2, wallet: w2 } = await hostWithWallet(clock.env)
    try {
      const ask = { ...ASK_OWNERS_POLICY, pendingTtlSeconds: 60 }
      const { agent: a2 } = await h2.setupAgent(o2, w2, ask)
      await h2.waitAgentFloor()
      const pay2 = () => h2.agentSign(signAgentRequest({ agent: a2, wallet: w2, operation: eip3009({ wallet: w2, value: 5n }) }))
      const t0 = Date.now()
      const first = await pay2()
      expect(refusalCode(first)).toBe('approval_pending')
      const pendingId = (first as { error: { pendingId: string } }).error.pendingId
      const created = h2.entries.flatMap((t) => (JSON.parse(t) as { ledger?: Array<{ type: string; pendingId?: string; digest?: string }> }).ledger ?? []).find((e) => e.type === 'pending_created' && e.pendingId === pendingId)
      clock.advanceTo(t0 + 50_000)
      const parts = await viewAndDecision(h2, o2, 'ResolvePending', { wallet: w2, pendingId, digest: created!.digest, approve: true, seq: String((await h2.ownerSeq(w2)) + 1) })
      clock.advanceTo(t0 + 75_000) // the pending expired at t0 + 60 s; the view is 25 s old
      expect(refusalCode(await pay2())).toBe('approval_pending') // a turn whose ledger events sweep the expired pending
      expect(refusalCode(await sendDecision(h2, parts.body, parts.decision))).toBe('governance_stale')
      expect(h2.logs.join('')).not.toMatch(/halt/i)
      expect((await h2.walletAct(o2, 'FreezeAgent', w2, { agentId: a2.agentId, frozen: true })).ok).toBe(true)
    } finally {
      await h2.stop()
    }
  })
})
