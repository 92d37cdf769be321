import type { Hex, LocalAccount } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { hostWithWallet, sendDecision, viewAndDecision } from '../helpers/governanceRelay.js'
import { type MaliciousHost, type PolicyBody, type TestAgent, eip3009, newAgent, paymentPolicy, refusalCode, signAgentRequest } from '../helpers/maliciousHost.js'
import { parsePolicy, policyHash } from '../../shared/schemas/policy.js'

/** The soft state limit for this test's signer and governance (sim/lowerStateLimit.ts): KiBs, not 15 MiB. */
const SOFT = 40 * 1024

/**
 * rt36a's left-over, closed by scope38. Attack (owners of several wallets, or one owner racing itself; issue 12 stage
 * B): governance refuses a state-growing act once the sealed state is past its soft limit (limit_state_size), reading
 * the size from the signer's view. Views of growing acts on different wallets are made one after the other, each
 * under the limit, and their decisions come back afterwards: each fits alone, all of them applied, and only the hard
 * limit (a snapshot too large to frame: the signer halts) stopped the state growing. The signer must check the size
 * again when a decision applies: the first act past the limit applies (as governance allows), every later one is
 * refused limit_state_size, nothing of it is signed in, and the signer stays up: agents are answered, shrinking acts
 * apply. Real signer and governance processes; the host is the test (it holds the decisions until all views are made).
 */
describe('adversarial: owners race state-growing acts on several wallets past the soft state limit', () => {
  let host: MaliciousHost
  let owner: LocalAccount
  let w1: Hex
  let payer: TestAgent
  const others: Hex[] = []
  beforeAll(async () => {
    ;({ host, owner, wallet: w1 } = await hostWithWallet({ BURSAR_SIM_STATE_SOFT_BYTES: String(SOFT) }))
    for (let i = 0; i < 3; i++) others.push(await host.createWallet(owner))
    ;({ agent: payer } = await host.setupAgent(owner, w1, paymentPolicy({ perTx: '1000', rolling24h: '100000' })))
    await host.waitAgentFloor()
  }, 60_000)
  afterAll(async () => {
    await host?.stop()
  })

  /** The signer's sealed size as it counts it: the newest core blob and each wallet's newest blob (from the persist blocks). */
  const size = () => {
    const newest = new Map<string, number>()
    for (const s of host.snapshots) for (const w of s.wallets ?? []) newest.set(w.wallet, w.blob.length)
    return host.snapshots.at(-1)!.blob.length + [...newest.values()].reduce((a, b) => a + b, 0)
  }
  /** A valid policy padded with `payees` recipients (so one act grows the state by about 45 bytes each). */
  const bigPolicy = (payees: number): PolicyBody => {
    const p = paymentPolicy({ perTx: '1', rolling24h: '1' })
    const pad = Array.from({ length: payees }, (_, i) => `0x${(i + 1).toString(16).padStart(40, '0')}`)
    return { ...p, rules: [{ ...p.rules[0]!, payTo: { in: [...((p.rules[0]!.payTo as { in: string[] }).in), ...pad] } }] }
  }
  const setPolicyMessage = async (wallet: Hex, agent: TestAgent, body: PolicyBody) => {
    const policy = parsePolicy({ ...body, wallet, agentId: agent.agentId })
    return { message: { wallet, agentId: agent.agentId, version: String(policy.version), policyHash: policyHash(policy), seq: String((await host.ownerSeq(wallet)) + 1) }, policy: JSON.stringify(policy) }
  }

  it('views made under the limit: the first decision past it applies, the later ones are limit_state_size; the signer keeps answering', async () => {
    // Agents waiting for a policy on the three other wallets (small records), then the state grown close to the limit.
    const waiting: TestAgent[] = []
    for (const w of others) {
      const a = newAgent()
      expect((await host.walletAct(owner, 'RegisterAgent', w, { agentId: a.agentId, agentPublicKey: a.publicKeyHex, label: 'big' })).ok).toBe(true)
      waiting.push(a)
    }
    let step = 0
    for (let before = size(); size() + 2 * step <= SOFT; before = size()) {
      await host.setupAgent(owner, w1, bigPolicy(60))
      step = size() - before
      expect(step).toBeGreaterThan(0)
    }
    const atViews = size()
    expect(atViews).toBeLessThanOrEqual(SOFT)
    // Each concurrent act alone grows the state past the limit (its policy is 2.5× one growing step; the state is less than two steps below the limit).
    const parts = []
    for (const [i, w] of others.entries()) {
      const { message, policy } = await setPolicyMessage(w, waiting[i]!, bigPolicy(Math.min(250, Math.ceil((2.5 * step) / 45))))
      parts.push(await viewAndDecision(host, owner, 'SetPolicy', message, policy))
    }
    const entries = host.entries.length
    const answers = []
    for (const p of parts) answers.push(await sendDecision(host, p.body, p.decision))
    expect(answers.map((r) => (r.ok ? 'applied' : refusalCode(r)))).toEqual(['applied', 'limit_state_size', 'limit_state_size'])
    expect(size()).toBeGreaterThan(SOFT) // the one act past the limit, as governance allows
    const after = size()
    // Nothing of the refused acts was signed in: no entry names their wallets since the first decision's.
    const newer = host.entries.slice(entries).map((t) => JSON.parse(t) as { wallet?: string })
    expect(newer.some((e) => e.wallet?.toLowerCase() === others[1]!.toLowerCase() || e.wallet?.toLowerCase() === others[2]!.toLowerCase())).toBe(false)

    // The signer is up: an agent is answered, a shrinking act applies, a growing one is refused by governance now.
    const paid = await host.agentSign(signAgentRequest({ agent: payer, wallet: w1, operation: eip3009({ wallet: w1, value: 1n }) }))
    expect(paid.ok ? 'signed' : refusalCode(paid)).toBe('signed')
    expect((await host.walletAct(owner, 'FreezeAgent', others[1]!, { agentId: waiting[1]!.agentId, frozen: true })).ok).toBe(true)
    const again = await setPolicyMessage(others[2]!, waiting[2]!, bigPolicy(1))
    const late = await viewAndDecision(host, owner, 'SetPolicy', again.message, again.policy)
    expect(refusalCode(await sendDecision(host, late.body, late.decision))).toBe('limit_state_size')
    expect(size()).toBeLessThan(after + step) // the freeze only
    expect(host.logs.join('')).not.toMatch(/halt/i)
  }, 120_000)
})
