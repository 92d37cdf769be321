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
 * each decision admits its wallet — five wallets where the limit is four. The signer must refuse a create decision
 * whose view's counts are no longer the enclave's (governance_stale); sent again, the fifth is refused by the limit.
 */
describe('adversarial: an owner races CreateWallets past the per-owner limit (real signer and governance processes)', () => {
  const s = hostWithWalletPerFile()

  it(`five creates viewed at once make at most ${PER_OWNER} wallets; the rest are governance_stale, then limit_wallets_per_owner`, async () => {
    const { host } = s
    const owner = privateKeyToAccount(generatePrivateKey())
    const auditChain = await host.auditChain() // gov36: a new wallet's act names the enclave's chain
    const message = (i: number) => ({ owner: owner.address, label: `race-${i}`, nonce: `0x${randomBytes(32).toString('hex')}`, issuedAt: String(Date.now()), auditChain })
    const parts: RelayParts[] = []
    for (let i = 0; i <= PER_OWNER; i++) parts.push(await viewAndDecision(host, owner, 'CreateWallet', message(i)))
    const answers = []
    for (const p of parts) answers.push(await sendDecision(host, p.body, p.decision))
    const mine = async () => (await host.wallets()).filter((w) => w.owner.toLowerCase() === owner.address.toLowerCase()).length
    expect(answers[0]!.ok).toBe(true)
    expect(answers.slice(1).map(refusalCode)).toEqual(Array(PER_OWNER).fill('governance_stale'))
    expect(await mine()).toBe(1)
    // The same signed acts relayed one at a time: three more wallets, then the limit.
    const again = []
    for (const p of parts.slice(1)) again.push(await host.call({ type: 'ownerAct', ...p.body }))
    expect(again.slice(0, PER_OWNER - 1).every((r) => r.ok)).toBe(true)
    expect(refusalCode(again[PER_OWNER - 1]!)).toBe('limit_wallets_per_owner')
    expect(await mine()).toBe(PER_OWNER)
  })
})
