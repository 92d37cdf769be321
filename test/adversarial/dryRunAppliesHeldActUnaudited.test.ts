import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { postSignedRequest } from '../../agent/postSignedRequest.js'
import { eip3009 } from '../helpers/agentClient.js'
import { type QuorumWallet, expectHeldUnfreezeStoredOnce, heldUnfreeze, startQuorumWallet, tryPay } from '../helpers/quorumWallet.js'
import { simClock } from '../helpers/simClock.js'

const DELAY_S = 300
const clock = simClock()

/**
 * Attack (malicious agent, rt34a): held owner acts (an unfreeze the owners accepted under the wallet's delay) fall due
 * at the agent's next request — also a dry run. A dry run's answer carries no persist block, so the held act applied
 * in the writer (state changed, audit entries appended to the chain) would never reach the host's store nor its seal:
 * the host's log gets a hole at the next real request's block, and a restart cannot account for the act. Through the
 * real host and enclave: after the dry run the held act's audit entry is stored, the agent's next payment signs,
 * and the enclave restarts onto a state where the unfreeze is applied and audited once.
 */
describe('adversarial: a dry run makes a due held act apply without its audit entry or seal', () => {
  let q: QuorumWallet
  const pay = () => tryPay(q)
  const dryRun = async () => {
    const { body } = await postSignedRequest({ host: q.stack.url, agentKey: q.agentKey, wallet: q.wallet, path: '/v1/agent/sign', fields: { ...eip3009({ wallet: q.wallet, value: 500n }), dryRun: true } })
    return body as { dryRun?: boolean; verdict?: string }
  }

  beforeAll(async () => {
    q = await startQuorumWallet({ prefix: 'dryheld', delaySeconds: DELAY_S, env: clock.env })
  }, 60_000)
  afterAll(async () => {
    await q?.stack.stop()
    clock.restore()
  })

  it('the held unfreeze applied by a dry run is audited, stored and sealed', async () => {
    const thaw = await heldUnfreeze(q)
    expect(await pay()).toEqual({ ok: false, code: 'agent_frozen' })
    clock.advanceTo(thaw.effectiveAt)
    expect(await dryRun()).toMatchObject({ dryRun: true, verdict: 'allow' })
    await expectHeldUnfreezeStoredOnce(q, thaw.actHash)
  }, 120_000)
})
