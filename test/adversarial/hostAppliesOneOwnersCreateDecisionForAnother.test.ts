import { randomBytes } from 'node:crypto'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { afterAll, describe, expect, it } from 'vitest'
import { hostWithWallet, sendDecision, viewAndDecision } from '../helpers/governanceRelay.js'
import { type MaliciousHost, refusalCode } from '../helpers/maliciousHost.js'

/** OWNER_LIMITS.walletsPerOwner (shared/owner/ownerLimits.ts). */
const PER_OWNER = 4

/**
 * Attack (a malicious host for an owner at the per-owner limit, rt37c on create37): the signer no longer compares the
 * view's counts (which named the act's owner) at apply; it counts again for the new wallet's owner. Owner A has four
 * wallets (the limit) and signs a fifth create; governance refuses it by the limit. Owner B's create fits. The host
 * sends B's decision (its wallet fits B's counts) with A's signed act, and B's decision back with A's act re-spaced
 * (another digest): a decision answers the view of one act, so each is governance_decision_invalid and nothing is
 * made; A stays at four. A misdirected decision uses up B's view (B's decision afterwards is governance_stale:
 * refusal of service, which the host has anyway); B relayed again gets its wallet, owned by B.
 */
describe("adversarial: the host applies one owner's create decision as another owner's (real signer and governance)", () => {
  let host: MaliciousHost
  afterAll(async () => host?.stop())

  it("B's decision with A's act is governance_decision_invalid; A stays at the limit, B's wallet is B's", async () => {
    ;({ host } = await hostWithWallet())
    const [a, b] = [privateKeyToAccount(generatePrivateKey()), privateKeyToAccount(generatePrivateKey())]
    for (let i = 0; i < PER_OWNER; i++) await host.createWallet(a, `a-${i}`)
    const auditChain = await host.auditChain()
    const message = (o: typeof a, label: string) => ({ owner: o.address, label, nonce: `0x${randomBytes(32).toString('hex')}`, issuedAt: String(Date.now()), auditChain })
    const count = async (o: typeof a) => (await host.wallets()).filter((w) => w.owner.toLowerCase() === o.address.toLowerCase()).length
    const fifth = await viewAndDecision(host, a, 'CreateWallet', message(a, 'a-5'))
    const forB = await viewAndDecision(host, b, 'CreateWallet', message(b, 'b-0'))
    expect(refusalCode(await sendDecision(host, fifth.body, forB.decision))).toBe('governance_decision_invalid')
    expect(refusalCode(await sendDecision(host, forB.body, forB.decision))).toBe('governance_stale') // its view was used up
    const forB2 = await viewAndDecision(host, b, 'CreateWallet', message(b, 'b-1'))
    const respaced = { ...fifth.body, message: fifth.body.message.replace('{', '{ ') }
    expect(refusalCode(await sendDecision(host, respaced, forB2.decision))).toBe('governance_decision_invalid')
    expect(refusalCode(await sendDecision(host, fifth.body, fifth.decision))).toBe('limit_wallets_per_owner')
    expect(await count(a)).toBe(PER_OWNER)
    const again = await host.call({ type: 'ownerAct', ...forB.body })
    expect(again.ok, JSON.stringify(again)).toBe(true)
    expect(await count(b)).toBe(1)
  })
})
