import { randomBytes } from 'node:crypto'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { afterAll, describe, expect, it } from 'vitest'
import { hostWithWallet, sendDecision } from '../helpers/governanceRelay.js'
import { type MaliciousHost, refusalCode } from '../helpers/maliciousHost.js'
import { simClock } from '../helpers/simClock.js'
import { signOwnerAct } from '../../shared/owner/signOwnerAct.js'

const clock = simClock()
afterAll(() => clock.restore())

/**
 * Attack (a malicious host, rt37c on create37): the signer no longer compares a create's counts with its view's; it
 * re-checks that the act's nonce is not among the *live* nonces, where "live" is by the decision's `pruneBefore`
 * (governance's, from the view's clock: now − 20 min), and each create prunes the nonces older than its own
 * `pruneBefore`. The host takes two views of ONE signed CreateWallet (the same act, its JSON re-spaced, so the
 * signer keeps both: one outstanding view per act digest), applies the first decision, waits until a later create
 * prunes the nonce (the clock 21 minutes on; a stranger's own create), then sends the held second decision: if
 * it still applied, the nonce is unknown by then and one signed act would make two wallets. It held: a view is
 * at most 30 s old by the signer's clock at apply (governance_stale), far less than the 10 minutes between the
 * act's window and its nonce's pruning; the act sent again is outside its window (owner_act_stale). One wallet.
 */
describe('adversarial: the host holds a twin CreateWallet decision until the nonce is pruned (real signer and governance)', () => {
  let host: MaliciousHost
  afterAll(async () => host?.stop())

  it('the held twin is governance_stale after the prune; the signed act made one wallet', async () => {
    ;({ host } = await hostWithWallet(clock.env))
    const owner = privateKeyToAccount(generatePrivateKey())
    const message = { owner: owner.address, label: 'twin', nonce: `0x${randomBytes(32).toString('hex')}`, issuedAt: String(Date.now()), auditChain: await host.auditChain() }
    const body = await signOwnerAct({ account: owner, primaryType: 'CreateWallet', message })
    const twin = { ...body, message: body.message.replace('{', '{ ') } // the same signed act, another digest
    const views = []
    for (const b of [body, twin]) {
      const v = await host.callSigner({ type: 'ownerAct', ...b })
      expect(v.ok, JSON.stringify(v)).toBe(true)
      const { view, link } = v.ok ? (v.result as { view: Uint8Array; link: Uint8Array }) : ({} as never)
      const d = await host.decide(view, link)
      expect(d.ok, JSON.stringify(d)).toBe(true)
      views.push({ b, decision: (d.ok ? d.result : ({} as never)) as { decision: Uint8Array } })
    }
    const first = await sendDecision(host, views[0]!.b, views[0]!.decision.decision)
    expect(first.ok, JSON.stringify(first)).toBe(true)
    // 21 minutes on, a stranger's create prunes every nonce issued before now − 20 min: the owner's among them.
    clock.advanceTo(Date.now() + 21 * 60_000)
    await host.createWallet(privateKeyToAccount(generatePrivateKey()), 'stranger')
    const held = await sendDecision(host, views[1]!.b, views[1]!.decision.decision)
    expect(refusalCode(held)).toBe('governance_stale')
    expect(refusalCode(await host.call({ type: 'ownerAct', ...twin }))).toBe('owner_act_stale')
    expect((await host.wallets()).filter((w) => w.owner.toLowerCase() === owner.address.toLowerCase()).length).toBe(1)
  })
})
