import { randomBytes } from 'node:crypto'
import { type Hex, type LocalAccount, bytesToHex } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { x25519PublicKey } from '../../shared/owner/keyExitCipher.js'
import { hostWithWallet, sendDecision, viewAndDecision } from '../helpers/governanceRelay.js'
import { type MaliciousHost, refusalCode } from '../helpers/maliciousHost.js'
import { type SimClock, simClock } from '../helpers/simClock.js'

const HOUR = 3_600_000

/**
 * Attack (malicious host, issue 12 stage B): governance dates a key exit by the `now` in the signer's view
 * (effectiveAt = now + the wallet's delay). The host relays an ExportKey's view, holds governance's decision, and sends
 * it back later, hoping the exit's time lock counts from the old `now` and so ends sooner than the owners' delay. The
 * signer refuses a decision whose view is older than 30 s (governance_stale): nothing is scheduled; the act sent again
 * is dated by the signer's clock at that time.
 */
describe('adversarial: the host delays an exit decision to shorten its time lock (real signer and governance processes)', () => {
  let host: MaliciousHost
  let owner: LocalAccount
  let wallet: Hex
  let clock: SimClock
  beforeAll(async () => {
    clock = simClock()
    ;({ host, owner, wallet } = await hostWithWallet(clock.env))
    const one = { stopQuorum: '1', approveQuorum: '1', loosenQuorum: '1', agentsQuorum: '1', ownersQuorum: '1' }
    expect((await host.walletAct(owner, 'SetOwners', wallet, { owners: [owner.address], ...one, delaySeconds: String(HOUR / 1000) })).ok).toBe(true)
  })
  afterAll(async () => {
    clock?.restore()
    await host?.stop()
  })

  it('an ExportKey decision held 31 s is governance_stale; the exit sent again takes effect an hour after it lands', async () => {
    const recipientKey = bytesToHex(x25519PublicKey(new Uint8Array(randomBytes(32))))
    const seq = (await host.ownerSeq(wallet)) + 1
    const held = await viewAndDecision(host, owner, 'ExportKey', { wallet, recipientKey, seq: String(seq) })
    const viewedAt = Date.now()
    clock.advanceTo(viewedAt + 31_000)
    expect(refusalCode(await sendDecision(host, held.body, held.decision))).toBe('governance_stale')
    expect(await host.ownerSeq(wallet)).toBe(seq - 1)
    const again = await host.walletAct(owner, 'ExportKey', wallet, { recipientKey })
    expect(again.ok).toBe(true)
    const { effectiveAt } = (again as { result: { scheduled: { effectiveAt: number } } }).result.scheduled
    expect(effectiveAt).toBeGreaterThanOrEqual(viewedAt + 31_000 + HOUR)
  })
})
