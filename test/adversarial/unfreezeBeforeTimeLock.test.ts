import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CHAIN_ID, MERCHANT, TOKEN, auditEntries } from '../helpers/agentClient.js'
import { type QuorumWallet, startQuorumWallet, tryPay } from '../helpers/quorumWallet.js'
import { simClock } from '../helpers/simClock.js'

/** Far longer than the ~10 CLI runs before the first unfreeze falls due; the test moves the clock, it does not wait. */
const DELAY_S = 300
/** The simulated enclave's clock (and this process's): time locks pass by moving it (test/helpers/simClock.ts). */
const clock = simClock()
const until = (t: number) => clock.advanceTo(t)

/**
 * Attack: owners (or two stolen owner keys) widen what a frozen agent may do without touching its policy — unfreeze
 * it, issue it a permit, credit its budget — and have it spend at once, before the other owners notice. With a
 * wallet delay these acts wait it out like a policy loosening: through the real host, enclave and CLI, an accepted
 * unfreeze leaves the agent refused (`agent_frozen`) until the delay has passed; any single owner cancels a held
 * permit (CLI); a freeze drops a held unfreeze; and once due, the unfreeze and the credit apply at the agent's next
 * request (audited with their act hashes) and it signs (viem verifies).
 */
describe('adversarial: unfreezing, permits and credits before the time lock has passed', () => {
  let q: QuorumWallet
  const pay = () => tryPay(q)
  const json = (s: string) => JSON.parse(s) as Record<string, any>
  /** Owner 0 proposes through the CLI, owner 1 co-signs through it: the act is accepted (2 of 3). */
  const twoOwners = async (args: string[]) => {
    const one = await q.cli(0, [...args, '--wallet', q.wallet, '--json'])
    expect(one.code, one.stdout + one.stderr).toBe(0)
    const two = await q.cli(1, ['proposals', 'sign', '--wallet', q.wallet, json(one.stdout).proposal.actHash, '--json'])
    expect(two.code, two.stdout + two.stderr).toBe(0)
    return json(two.stdout)
  }

  beforeAll(async () => {
    q = await startQuorumWallet({ prefix: 'thaw', delaySeconds: DELAY_S, env: clock.env })
  }, 60_000)
  afterAll(async () => {
    await q?.stack.stop()
    clock.restore()
  })

  it('held unfreeze, permit and credit: refused meanwhile, cancellable, dropped by a freeze, applied once due', async () => {
    const agent = q.agentKey.agentId
    const freeze = await q.cli(2, ['agent', 'freeze', '--wallet', q.wallet, '--agent', agent, '--json'])
    expect(freeze.code, freeze.stdout + freeze.stderr).toBe(0)
    expect(await pay()).toEqual({ ok: false, code: 'agent_frozen' })

    const thaw1 = await twoOwners(['agent', 'unfreeze', '--agent', agent])
    expect(thaw1.scheduled).toMatchObject({ widens: ['FreezeAgent'] })
    expect(await pay()).toEqual({ ok: false, code: 'agent_frozen' })
    const permit = await twoOwners(['permit', 'issue', '--agent', agent, '--chain', String(CHAIN_ID), '--asset', TOKEN, '--amount', '5000', '--pay-to', MERCHANT])
    expect(permit.scheduled).toMatchObject({ widens: ['IssuePermit'] })
    const listed = await q.cli(2, ['scheduled', 'list', '--wallet', q.wallet])
    expect(listed.stdout).toContain(`FreezeAgent for ${agent}`)
    expect(listed.stdout).toContain(`IssuePermit for ${agent}`)
    // Any single owner cancels the permit.
    const cancel = await q.cli(2, ['scheduled', 'cancel', '--wallet', q.wallet, permit.scheduled.actHash, '--json'])
    expect(cancel.code, cancel.stdout + cancel.stderr).toBe(0)
    expect((await q.clients[0]!.wallet(q.wallet)).held?.map((h) => h.act)).toEqual(['FreezeAgent'])
    // A freeze by one owner drops the held unfreeze.
    expect((await q.clients[2]!.act('FreezeAgent', q.wallet, { agentId: agent, frozen: true })).proposal).toBeUndefined()
    expect((await q.clients[0]!.wallet(q.wallet)).held).toEqual([])

    const thaw2 = await twoOwners(['agent', 'unfreeze', '--agent', agent])
    const credit = await twoOwners(['budget', 'credit', '--agent', agent, '--chain', String(CHAIN_ID), '--asset', TOKEN, '--amount', '100'])
    expect(credit.scheduled).toMatchObject({ widens: ['CreditBudget'] })
    // Still held just before it falls due (enclave time), then due.
    clock.advanceTo(thaw1.scheduled.effectiveAt, -5_000)
    expect((await q.clients[0]!.wallet(q.wallet)).held?.map((h) => h.act).sort()).toEqual(['CreditBudget', 'FreezeAgent'])
    expect(await pay()).toEqual({ ok: false, code: 'agent_frozen' })
    until(thaw1.scheduled.effectiveAt)
    // thaw1 was dropped: its time has come, yet the agent is still frozen.
    expect(await pay()).toEqual({ ok: false, code: 'agent_frozen' })
    // thaw2 and the credit are still held just before the first of them falls due (the check above is seconds before
    // that, by the CLI runs in between: it would miss held acts applied a few seconds early; red team rt29b).
    clock.advanceTo(Math.min(thaw2.scheduled.effectiveAt, credit.scheduled.effectiveAt), -3_000)
    expect((await q.clients[0]!.wallet(q.wallet)).held?.map((h) => h.act).sort()).toEqual(['CreditBudget', 'FreezeAgent'])
    expect(await pay()).toEqual({ ok: false, code: 'agent_frozen' })
    until(Math.max(thaw2.scheduled.effectiveAt, credit.scheduled.effectiveAt))
    expect(await pay()).toEqual({ ok: true })
    expect((await q.clients[0]!.wallet(q.wallet)).held).toEqual([])
    const audit = await auditEntries(q.stack.url, q.owners[0]!, { wallet: q.wallet })
    const applied = audit.filter((e) => e.requestId === thaw2.scheduled.actHash || e.requestId === credit.scheduled.actHash).map((e) => e.event)
    expect(applied).toEqual(expect.arrayContaining(['agent_unfrozen', 'budget_released']))
    expect(audit.some((e) => e.event === 'permit_issued')).toBe(false)
    expect(audit.filter((e) => e.event === 'act_scheduled').length).toBe(4)
    // The held acts applied by the agent's request were sealed with it: an enclave restart loads them as applied.
    await q.stack.stopEnclave()
    await q.stack.startEnclave()
    await q.stack.waitReady()
    expect(await pay()).toEqual({ ok: true })
    expect((await q.clients[0]!.wallet(q.wallet)).held).toEqual([])
  }, 150_000)
})
