import type { Hex } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PolicyDeniedError } from '../../agent/errors.js'
import { requestSignature } from '../../agent/requestSignature.js'
import {
  CHAIN_ID,
  MERCHANT,
  OTHER_PAYEE,
  type StackWithAgent,
  TOKEN,
  auditEntries,
  eip3009,
  paymentPolicy,
  postSign,
  signedBody,
  stackWithAgent,
  verifyEip3009,
  waitAgentFloor,
} from '../helpers/agentClient.js'

const CAP = 100n

/**
 * Single-use spend permits (docs/policy.md "Spend permits"): owner-issued,
 * amount- and pay-to-locked, expiring; the permit replaces the allow rules
 * (not deny rules), holds its amount against the budget until used, and
 * returns what it did not spend.
 */
describe('permits: single-use spend permits through the host (real host + enclave)', () => {
  let s: StackWithAgent
  const issue = (permitId: string, amount: bigint, payTo: Hex, expiresInMs = 3_600_000) =>
    s.client.act('IssuePermit', s.wallet, {
      agentId: s.agentKey.agentId,
      permitId,
      chainId: String(CHAIN_ID),
      asset: TOKEN,
      amount: String(amount),
      payTo,
      host: '',
      expiresAt: String(Date.now() + expiresInMs),
      exceedCaps: false,
    })
  const pay = async (value: bigint, to: Hex = MERCHANT) => {
    const operation = eip3009({ wallet: s.wallet, value, to })
    const r = await requestSignature({ host: s.stack.url, agentKey: s.agentKey, wallet: s.wallet, operation })
    expect(await verifyEip3009(s.wallet, operation, r.signature as Hex)).toBe(true)
    return r
  }
  const remainingFor = async (value: bigint) => {
    const e = await pay(value).catch((x: unknown) => x)
    expect(e).toBeInstanceOf(PolicyDeniedError)
    expect((e as PolicyDeniedError).code).toBe('policy_daily_cap_exceeded')
    return BigInt((e as PolicyDeniedError).remaining!)
  }

  beforeAll(async () => {
    const policy = paymentPolicy({ perTx: String(CAP), rolling24h: String(CAP) })
    policy.rules.unshift({ id: 'never-dead', effect: 'deny', payTo: { in: ['0x000000000000000000000000000000000000dEaD'] } })
    s = await stackWithAgent(policy)
    await waitAgentFloor()
  })
  afterAll(async () => {
    await s?.stack.stop()
  })

  it('an issued permit holds its amount against the budget; issuing the same permit id twice is refused', async () => {
    await issue('pmt_hold', 40n, OTHER_PAYEE)
    const w = await s.client.wallet(s.wallet)
    expect(w.permits).toEqual([expect.objectContaining({ permitId: 'pmt_hold', agentId: s.agentKey.agentId, amount: '40' })])
    // 100 − 40 held = 60 for ordinary payments.
    expect(await remainingFor(61n)).toBe(60n)
    await pay(10n)
    expect(await remainingFor(51n)).toBe(50n)
    await expect(issue('pmt_hold', 40n, OTHER_PAYEE)).rejects.toMatchObject({ code: 'owner_act_replayed' })
    // A permit must be locked (pay-to or host) and live when issued.
    await expect(issue('pmt_unlocked', 5n, `0x${'0'.repeat(40)}`)).rejects.toMatchObject({ code: 'owner_act_invalid', message: expect.stringMatching(/locked/) })
    await expect(issue('pmt_expired', 5n, OTHER_PAYEE, -1_000)).rejects.toMatchObject({ code: 'owner_act_invalid', message: expect.stringMatching(/expired/) })
    expect((await s.client.wallet(s.wallet)).permits.length).toBe(1)
  })

  /** The agent names the permit in its signed request (`permitId`); the enclave checks the permit's locks. */
  it('a payment naming the permit signs once beyond the allow rules; second use refused; the unused amount returns', async () => {
    const named = (value: bigint, to: Hex, permitId: string) =>
      postSign(s.stack.url, signedBody({ agentKey: s.agentKey, wallet: s.wallet, operation: eip3009({ wallet: s.wallet, value, to }), extra: { permitId } }))
    // OTHER_PAYEE is not in any allow rule: only the permit lets this through. Spend 25 of the 40.
    const used = await named(25n, OTHER_PAYEE, 'pmt_hold')
    expect(used.status).toBe(200)
    expect(used.json.signature).toMatch(/^0x[0-9a-f]{130}$/i)
    // Used once: the second use is refused.
    const second = await named(5n, OTHER_PAYEE, 'pmt_hold')
    expect(second.json.code).toBe('policy_permit_invalid')
    // 100 − 10 spent − 25 via the permit = 65: the 15 it did not spend is back in the budget.
    expect(await remainingFor(66n)).toBe(65n)
    // Locks: another pay-to, more than the amount, a deny rule.
    await issue('pmt_lock', 30n, OTHER_PAYEE)
    expect((await named(5n, MERCHANT, 'pmt_lock')).json.code).toBe('policy_permit_mismatch')
    expect((await named(31n, OTHER_PAYEE, 'pmt_lock')).json.code).toBe('policy_permit_amount_exceeded')
    await issue('pmt_dead', 5n, '0x000000000000000000000000000000000000dEaD')
    const dead = await named(5n, '0x000000000000000000000000000000000000dEaD', 'pmt_dead')
    expect(dead.json).toMatchObject({ code: 'policy_payto_not_allowed', rule: 'rules.never-dead' })
    const entries = await auditEntries(s.stack.url, s.owner, { agent: s.agentKey.agentId })
    expect(entries.filter((e) => e.rule === 'permit.pmt_hold' && e.event === 'sign_allowed').length).toBe(1)
  })
})
