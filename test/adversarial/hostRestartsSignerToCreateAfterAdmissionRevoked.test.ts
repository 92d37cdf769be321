import { randomBytes } from 'node:crypto'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { afterAll, describe, expect, it } from 'vitest'
import { sendDecision, viewAndDecision } from '../helpers/governanceRelay.js'
import { MaliciousHost, refusalCode } from '../helpers/maliciousHost.js'

/**
 * Attack (a malicious host, rt37c on create37): the signer re-checks a create at apply against its admission *now*
 * and the view's (`createStillFits`: admitted and the admission kind unchanged). Admission is the signer's launch
 * config (BURSAR_OWNER_ALLOWLIST), so it changes only across a restart. The host takes the view and governance's
 * decision for an allowlisted owner's CreateWallet, restarts the signer with the owner struck from the allowlist
 * (the operator revoked them), and sends the held decision: it must not make the wallet. It held: the signer awaits
 * decisions only for views it sent in this process (governance_stale); relayed again, governance refuses the act
 * (owner_not_admitted). The owner keeps the one wallet made while admitted.
 */
describe('adversarial: the host restarts the signer to apply a create decision after the owner was struck from the allowlist', () => {
  const host = new MaliciousHost()
  afterAll(async () => host.stop())

  it('the held decision is governance_stale after the restart, the act owner_not_admitted; one wallet', async () => {
    const owner = privateKeyToAccount(generatePrivateKey())
    const other = privateKeyToAccount(generatePrivateKey())
    host.env = { BURSAR_OWNER_ALLOWLIST: `${owner.address},${other.address}` }
    await host.startEnclave()
    expect((await host.bootstrapHonest()).ok).toBe(true)
    await host.createWallet(owner, 'while-admitted')
    const auditChain = await host.auditChain()
    const held = await viewAndDecision(host, owner, 'CreateWallet', { owner: owner.address, label: 'held', nonce: `0x${randomBytes(32).toString('hex')}`, issuedAt: String(Date.now()), auditChain })

    host.env = { BURSAR_OWNER_ALLOWLIST: other.address }
    await host.restartEnclave()
    expect((await host.bootstrapHonest()).ok).toBe(true)
    await host.waitAgentFloor()
    expect(refusalCode(await sendDecision(host, held.body, held.decision))).toBe('governance_stale')
    expect(refusalCode(await host.call({ type: 'ownerAct', ...held.body }))).toBe('owner_not_admitted')
    expect((await host.wallets()).filter((w) => w.owner.toLowerCase() === owner.address.toLowerCase()).length).toBe(1)
  })
})
