import type { Hex, LocalAccount } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readAgentStatus } from '../../agent/agentRead.js'
import { PolicyDeniedError } from '../../agent/errors.js'
import type { AgentKey } from '../../agent/loadAgentKey.js'
import { requestSignature } from '../../agent/requestSignature.js'
import { OwnerClient } from '../../cli/lib/OwnerClient.js'
import { parsePolicy, policyHash } from '../../shared/schemas/policy.js'
import { auditEntries, eip3009, paymentPolicy, verifyEip3009 } from '../helpers/agentClient.js'
import { type QuorumWallet, startQuorumWallet } from '../helpers/quorumWallet.js'
import { simClock } from '../helpers/simClock.js'
import type { Stack } from '../helpers/startStack.js'

/** Far longer than the CLI runs in between (each spawns a process); the tests move the clock, they do not wait. */
const DELAY_S = 120
/** The simulated enclave's clock (and this process's): time locks pass by moving it (test/helpers/simClock.ts). */
const clock = simClock()
const until = (t: number) => clock.advanceTo(t)

/**
 * Attack: owners (or two stolen owner keys) loosen an agent's policy and have the agent spend under it at once,
 * before the other owners notice. The wallet's time lock makes any widening wait its delay, whatever the quorum:
 * through the real host and enclave, a 2-of-3 loosening with one signature does nothing, with two it waits out the
 * delay (the agent is refused the wider payment meanwhile and sees what is scheduled), a third owner's freeze cancels
 * it, a re-approved one takes effect after the delay, and a narrowing act by one owner applies at once.
 */
describe('adversarial: loosening a policy before the time lock has passed', () => {
  let stack: Stack
  let owners: LocalAccount[]
  let clients: OwnerClient[]
  let wallet: Hex
  let agentKey: AgentKey
  let cli: QuorumWallet['cli']
  let version = 1
  const pay = async (value: bigint): Promise<{ ok: boolean; code?: string }> => {
    const operation = eip3009({ wallet, value })
    try {
      const r = await requestSignature({ host: stack.url, agentKey, wallet, operation })
      return { ok: await verifyEip3009(wallet, operation, r.signature as Hex) }
    } catch (e) {
      return { ok: false, code: (e as PolicyDeniedError).code }
    }
  }
  /** Owner `who` signs a SetPolicy with this per-payment cap (the next version). */
  const setPolicy = (who: number, perTx: string) => {
    version += 1
    const p = parsePolicy({ ...paymentPolicy({ perTx, rolling24h: '100000', version }), wallet, agentId: agentKey.agentId })
    return clients[who]!.act('SetPolicy', wallet, { agentId: agentKey.agentId, version: String(version), policyHash: policyHash(p) }, JSON.stringify(p))
  }

  beforeAll(async () => {
    // Three owners: 1 to stop, 2 of 3 for everything else, and the loosening delay.
    ;({ stack, owners, clients, wallet, agentKey, cli } = await startQuorumWallet({ prefix: 'timelock', delaySeconds: DELAY_S, env: clock.env }))
  }, 60_000)
  afterAll(async () => {
    await stack?.stop()
    clock.restore()
  })

  it('one signature does nothing; two schedule it; meanwhile the agent is refused and told; a third owner’s freeze cancels it', async () => {
    const one = await setPolicy(0, '2000')
    expect(one.proposal).toMatchObject({ actClass: 'loosen', threshold: 2 })
    const two = await clients[1]!.cosign(wallet, one.proposal!.actHash)
    expect(two.scheduled).toMatchObject({ actHash: one.proposal!.actHash, widens: ['budgets[84532:0x036cbd53842c5426634e7929541ec2318f3dcf7e].perTx'] })
    // The delay runs from acceptance (the receipt is signed a moment later, after the snapshot is sealed).
    expect(two.scheduled!.effectiveAt - two.receipt.time).toBeGreaterThan(DELAY_S * 1000 - 1000)
    expect(two.scheduled!.effectiveAt - two.receipt.time).toBeLessThanOrEqual(DELAY_S * 1000)
    expect(await pay(1500n)).toEqual({ ok: false, code: 'policy_per_tx_cap_exceeded' })
    // The agent is told what is coming; the owners see it in the CLI (human and --json).
    const status = await readAgentStatus({ host: stack.url, agentKey, wallet })
    expect(status.scheduled).toEqual([{ wallet: false, version: 2, widens: two.scheduled!.widens, effectiveAt: two.scheduled!.effectiveAt }])
    const listed = JSON.parse((await cli(2, ['scheduled', 'list', '--wallet', wallet, '--json'])).stdout)
    expect(listed).toMatchObject([{ wallet, agentId: agentKey.agentId, version: 2, actHash: one.proposal!.actHash }])
    expect((await cli(2, ['scheduled', 'list', '--wallet', wallet])).stdout).toContain('widens: budgets[84532:')
    // A third owner freezes the agent: at once (1 of 3), and the scheduled loosening dies with it.
    expect((await clients[2]!.act('FreezeAgent', wallet, { agentId: agentKey.agentId, frozen: true })).proposal).toBeUndefined()
    expect((await clients[0]!.wallet(wallet)).scheduled).toEqual([])
    const thaw = await clients[0]!.act('FreezeAgent', wallet, { agentId: agentKey.agentId, frozen: false })
    // The unfreeze widens too: it waits out the delay as well (test/adversarial/unfreezeBeforeTimeLock.test.ts).
    const thawed = await clients[1]!.cosign(wallet, thaw.proposal!.actHash)
    expect(thawed.scheduled).toMatchObject({ widens: ['FreezeAgent'] })
    until(Math.max(two.scheduled!.effectiveAt, thawed.scheduled!.effectiveAt))
    expect(await pay(1500n)).toEqual({ ok: false, code: 'policy_per_tx_cap_exceeded' })
    expect((await clients[0]!.wallet(wallet)).agents[0]!.policy!.version).toBe(1)
  }, 90_000)

  it('a re-approved loosening takes effect only once the delay has passed', async () => {
    const one = await setPolicy(0, '2000')
    const two = await clients[2]!.cosign(wallet, one.proposal!.actHash)
    const effectiveAt = two.scheduled!.effectiveAt
    expect(await pay(1500n)).toEqual({ ok: false, code: 'policy_per_tx_cap_exceeded' })
    clock.advanceTo(effectiveAt, -5_000)
    expect(await pay(1500n)).toEqual({ ok: false, code: 'policy_per_tx_cap_exceeded' })
    until(effectiveAt)
    expect(await pay(1500n)).toEqual({ ok: true })
    expect((await clients[0]!.wallet(wallet)).agents[0]!.policy!.version).toBe(version)
  }, 90_000)

  it('a narrowing act by a single owner applies at once (no quorum, no delay); the CLI cancel path works too', async () => {
    const narrow = await setPolicy(2, '100')
    expect(narrow.proposal).toBeUndefined()
    expect(narrow.scheduled).toBeUndefined()
    expect(await pay(150n)).toEqual({ ok: false, code: 'policy_per_tx_cap_exceeded' })
    expect(await pay(100n)).toEqual({ ok: true })
    // Another loosening, cancelled through the CLI by one owner.
    const one = await setPolicy(0, '5000')
    const two = await clients[1]!.cosign(wallet, one.proposal!.actHash)
    const cancel = await cli(2, ['scheduled', 'cancel', '--wallet', wallet, two.scheduled!.actHash, '--json'])
    expect(cancel.code, cancel.stdout + cancel.stderr).toBe(0)
    expect(JSON.parse(cancel.stdout)).toMatchObject({ cancelled: two.scheduled!.actHash })
    until(two.scheduled!.effectiveAt)
    expect(await pay(150n)).toEqual({ ok: false, code: 'policy_per_tx_cap_exceeded' })
    const events = (await auditEntries(stack.url, owners[0]!, { wallet })).map((e) => e.event)
    expect(events.filter((e) => e === 'policy_scheduled').length).toBe(3)
    expect(events).toContain('scheduled_cancelled')
  }, 90_000)
})
