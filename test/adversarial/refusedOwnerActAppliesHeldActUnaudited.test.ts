import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type QuorumWallet, expectHeldUnfreezeStoredOnce, heldUnfreeze, startQuorumWallet } from '../helpers/quorumWallet.js'
import { simClock } from '../helpers/simClock.js'

const DELAY_S = 300
const clock = simClock()

/**
 * Attack (a lone co-owner, rt34a): governance applies the wallet's due held acts (an unfreeze the owners accepted under
 * the delay) before it plans an act; when the act is then refused (here a freeze of an agent the wallet does not have),
 * the decision's steps before the refusal still apply in the signer. They must leave in a persist block with their
 * seal: else the held act's audit entry is never stored, the host's log gets a hole at the next block and the enclave
 * cannot restart. Through the real host and enclave: after the refused act the unfreeze's entry is stored, the agent
 * signs, and an enclave restart loads the unfreeze as applied, audited once.
 */
describe('adversarial: a refused owner act makes a due held act apply without its audit entry or seal', () => {
  let q: QuorumWallet

  beforeAll(async () => {
    q = await startQuorumWallet({ prefix: 'refheld', delaySeconds: DELAY_S, env: clock.env })
  }, 60_000)
  afterAll(async () => {
    await q?.stack.stop()
    clock.restore()
  })

  it('the held unfreeze applied before a refusal is audited, stored and sealed', async () => {
    const thaw = await heldUnfreeze(q)
    clock.advanceTo(thaw.effectiveAt)
    const refused = await q.clients[2]!.act('FreezeAgent', q.wallet, { agentId: `agt_${'0'.repeat(40)}`, frozen: true }).then(() => null, (e: { code?: string }) => e.code)
    expect(refused).toBeTruthy()
    await expectHeldUnfreezeStoredOnce(q, thaw.actHash)
  }, 120_000)
})
