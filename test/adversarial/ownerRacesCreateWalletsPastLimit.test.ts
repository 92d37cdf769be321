import { randomBytes } from 'node:crypto'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { describe, expect, it } from 'vitest'
import { type RelayParts, sendDecision, viewAndDecision } from '../helpers/governanceRelay.js'
import { hostWithWalletPerFile } from '../helpers/hostWithWalletPerFile.js'
import { refusalCode } from '../helpers/maliciousHost.js'

/** OWNER_LIMITS.walletsPerOwner (shared/owner/ownerLimits.ts). */
const PER_OWNER = 4

/**
 * Attack (a lone owner, or a host for one; issue 12 stage B): governance checks CreateWallet's limits (wallets per
 * owner, wallets in the enclave, creates per 20 minutes) against the counts in the signer's view. An owner signs five
 * CreateWallets (five nonces) and the host takes all five views before it relays any decision (concurrent owner
 * requests do the same through an honest host): each view counts the owner's wallets before the others land, so
 * each decision admits its wallet — five wallets where the limit is four. The signer re-checks each create decision
 * at apply (create37: nonce unused, admission, the limits with one more wallet): the first four fit, the fifth is
 * governance_stale; sent again, it is refused by the limit. Likewise two acts with one nonce: one wallet, then replayed.
 */
describe('adversarial: an owner races CreateWallets past the per-owner limit (real signer and governance processes)', () => {
  const s = hostWithWalletPerFile()

  it(`five creates viewed at once make at most ${PER_OWNER} wallets; the fifth is governance_stale, then limit_wallets_per_owner`, async () => {
    const { host } = s
    const owner = privateKeyToAccount(generatePrivateKey())
    const auditChain = await host.auditChain() // gov36: a new wallet's act names the enclave's chain
    const message = (i: number) => ({ owner: owner.address, label: `race-${i}`, nonce: `0x${randomBytes(32).toString('hex')}`, issuedAt: String(Date.now()), auditChain })
    const parts: RelayParts[] = []
    for (let i = 0; i <= PER_OWNER; i++) parts.push(await viewAndDecision(host, owner, 'CreateWallet', message(i)))
    const answers = []
    for (const p of parts) answers.push(await sendDecision(host, p.body, p.decision))
    const mine = async () => (await host.wallets()).filter((w) => w.owner.toLowerCase() === owner.address.toLowerCase()).length
    // Each decision's view counted none of the others; the signer counts again at apply: four fit, the fifth not.
    expect(answers.slice(0, PER_OWNER).every((r) => r.ok), JSON.stringify(answers.map(refusalCode))).toBe(true)
    expect(refusalCode(answers[PER_OWNER]!)).toBe('governance_stale')
    expect(await mine()).toBe(PER_OWNER)
    // The fifth signed act relayed again (a fresh view, at the limit): governance refuses it by the limit.
    expect(refusalCode(await host.call({ type: 'ownerAct', ...parts[PER_OWNER]!.body }))).toBe('limit_wallets_per_owner')
    expect(await mine()).toBe(PER_OWNER)
  })

  it('two creates with one nonce viewed at once make one wallet; the other is governance_stale, then owner_act_replayed', async () => {
    const { host } = s
    const owner = privateKeyToAccount(generatePrivateKey())
    const auditChain = await host.auditChain()
    const nonce = `0x${randomBytes(32).toString('hex')}`
    const message = (i: number) => ({ owner: owner.address, label: `twin-${i}`, nonce, issuedAt: String(Date.now()), auditChain })
    const parts = [await viewAndDecision(host, owner, 'CreateWallet', message(0)), await viewAndDecision(host, owner, 'CreateWallet', message(1))]
    const first = await sendDecision(host, parts[0]!.body, parts[0]!.decision)
    expect(first.ok).toBe(true)
    expect(refusalCode(await sendDecision(host, parts[1]!.body, parts[1]!.decision))).toBe('governance_stale')
    expect(refusalCode(await host.call({ type: 'ownerAct', ...parts[1]!.body }))).toBe('owner_act_replayed')
    expect((await host.wallets()).filter((w) => w.owner.toLowerCase() === owner.address.toLowerCase()).length).toBe(1)
  })
})
