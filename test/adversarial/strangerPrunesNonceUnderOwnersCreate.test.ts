import { randomBytes } from 'node:crypto'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import type { LocalAccount } from 'viem'
import { afterAll, describe, expect, it } from 'vitest'
import { hostWithWallet, sendDecision, viewAndDecision } from '../helpers/governanceRelay.js'
import { type MaliciousHost, refusalCode } from '../helpers/maliciousHost.js'
import { simClock } from '../helpers/simClock.js'

const clock = simClock()
afterAll(() => clock.restore())
const MIN = 60_000

/**
 * Attack (stranger with open admission, and a host that times the relay; rt38 on 6cbdfe7's clock-free guard): a create
 * decision whose live window (`pruneBefore` = its view's clock − 20 min) reaches a nonce a later create pruned is
 * `governance_stale` (EnclaveState.newestPruned). A stranger chooses his own create's `issuedAt` (±10 min), so he can
 * plant a nonce right at the edge of an owner's window and have it pruned by a second create of his between the
 * owner's view and its decision: the owner's decision is stale. rt37c said the guard had no real-process test (it
 * needs a clock set back); this reaches it with the clock moving forward only. What must hold: the guard fires (a
 * mutant without it applies the decision), it costs the owner one round, not the wallet (the same signed act sent
 * again lands: one wallet), and the stranger's planted nonce cannot do it twice (it is gone).
 */
describe('adversarial: a stranger prunes a planted nonce between an owner create view and its decision (real signer and governance)', () => {
  let host: MaliciousHost
  afterAll(async () => host?.stop())

  const create = async (account: LocalAccount, issuedAt: number) =>
    host.ownerAct({ account, primaryType: 'CreateWallet', message: { owner: account.address, label: 'x', nonce: `0x${randomBytes(32).toString('hex')}`, issuedAt: String(issuedAt), auditChain: await host.auditChain() } })

  it('the held decision is governance_stale; the act sent again makes the one wallet', async () => {
    ;({ host } = await hostWithWallet(clock.env))
    const stranger = privateKeyToAccount(generatePrivateKey())
    const t0 = Date.now()
    // The planted nonce: issued 9 min 30 s before the enclave's clock (inside the 10-minute window).
    const planted = await create(stranger, t0 - 9.5 * MIN)
    expect(planted.ok, JSON.stringify(planted)).toBe(true)
    // The owner's view 10 s before the planted nonce leaves the 20-minute window: it counts the nonce as live.
    clock.advanceTo(t0 - 9.5 * MIN + 20 * MIN - 10_000, 0)
    const owner = privateKeyToAccount(generatePrivateKey())
    const message = { owner: owner.address, label: 'owner', nonce: `0x${randomBytes(32).toString('hex')}`, issuedAt: String(Date.now()), auditChain: await host.auditChain() }
    const held = await viewAndDecision(host, owner, 'CreateWallet', message)
    // 20 s on (the view is still young: 30 s allowed), the stranger's second create prunes the planted nonce.
    clock.advanceTo(Date.now() + 20_000, 0)
    const pruner = await create(stranger, Date.now())
    expect(pruner.ok, JSON.stringify(pruner)).toBe(true)
    const r = await sendDecision(host, held.body, held.decision)
    expect(refusalCode(r), JSON.stringify(r).slice(0, 300)).toBe('governance_stale')
    // One round lost, not the wallet: the same signed act, relayed again, lands; its replay is refused.
    const again = await host.call({ type: 'ownerAct', ...held.body })
    expect(again.ok, JSON.stringify(again).slice(0, 300)).toBe(true)
    expect(refusalCode(await host.call({ type: 'ownerAct', ...held.body }))).toBe('owner_act_replayed')
    expect((await host.wallets()).filter((w) => w.owner.toLowerCase() === owner.address.toLowerCase()).length).toBe(1)
  })
})
