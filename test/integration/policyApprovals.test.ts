import type { Hex } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ApprovalPendingError, PolicyDeniedError } from '../../agent/errors.js'
import { requestSignature } from '../../agent/requestSignature.js'
import {
  CHAIN_ID,
  type StackWithAgent,
  TOKEN,
  auditEntries,
  eip3009,
  paymentPolicy,
  stackWithAgent,
  verifyEip3009,
  waitAgentFloor,
} from '../helpers/agentClient.js'

/**
 * Out of policy → pending → the owner answers with a signed ResolvePending.
 * The rule allows up to 1,000 per payment and asks the owner above it.
 */
describe('policy: owner approvals through the host (real host + enclave)', () => {
  let s: StackWithAgent
  const ask = (value: bigint) => {
    const operation = eip3009({ wallet: s.wallet, value })
    return requestSignature({ host: s.stack.url, agentKey: s.agentKey, wallet: s.wallet, operation }).then(
      (r) => ({ ...r, operation }),
      (e: unknown) => {
        throw e
      },
    )
  }
  const pendingOf = async (value: bigint): Promise<string> => {
    const err = await ask(value).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ApprovalPendingError)
    const id = (err as ApprovalPendingError).pendingId
    expect(id).toMatch(/^pnd_/)
    return id!
  }

  beforeAll(async () => {
    const policy = paymentPolicy({ perTx: '100000', rolling24h: '1000000' })
    const rule = policy.rules[0]!
    if (rule.effect !== 'allow') throw new TypeError('expected an allow rule')
    policy.rules[0] = { ...rule, caps: [{ chainId: CHAIN_ID, asset: TOKEN, perTx: '1000' }], onViolation: 'pending' }
    s = await stackWithAgent(policy)
    await waitAgentFloor()
  })
  afterAll(async () => {
    await s?.stack.stop()
  })

  it('pending → approve → the same purchase signs exactly once (even when retried in parallel) → a third attempt is pending again', async () => {
    const id = await pendingOf(5_000n)
    // Asking again before the owner answers returns the same pendingId.
    expect(await pendingOf(5_000n)).toBe(id)
    const listed = (await s.client.wallet(s.wallet)).pending.find((p) => p.pendingId === id)
    expect(listed).toMatchObject({ status: 'pending', agentId: s.agentKey.agentId })

    await s.client.resolvePending(s.wallet, id, true)
    // Eight retries of the same purchase (fresh EIP-3009 nonces) race: exactly one signs.
    const results = await Promise.allSettled(Array.from({ length: 8 }, () => ask(5_000n)))
    const ok = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []))
    expect(ok.length).toBe(1)
    expect(await verifyEip3009(s.wallet, ok[0]!.operation, ok[0]!.signature as Hex)).toBe(true)
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(ApprovalPendingError)
    // The approval is used up; the next attempt is a new pending request.
    const again = await pendingOf(5_000n)
    expect(again).not.toBe(id)
    // A different amount is not covered by the approval either.
    expect(await pendingOf(5_001n)).not.toBe(id)

    const entries = await auditEntries(s.stack.url, s.owner, { agent: s.agentKey.agentId })
    expect(entries.filter((e) => e.event === 'pending_approved').length).toBe(1)
    const allowed = entries.filter((e) => e.event === 'sign_allowed')
    expect(allowed.length).toBe(1)
    expect(allowed[0]!.rule).toBe(`pending.${id}`)
    expect(allowed[0]!.signedHash).toBe(ok[0]!.signedHash)
  })

  it('a rejected request is denied until it expires; a second answer to the same pending request is refused', async () => {
    const id = await pendingOf(7_000n)
    await s.client.resolvePending(s.wallet, id, false)
    const err = await ask(7_000n).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(PolicyDeniedError)
    expect((err as PolicyDeniedError).code).toBe('policy_per_tx_cap_exceeded')
    expect((err as PolicyDeniedError).message).toMatch(/rejected/)
    await expect(s.client.resolvePending(s.wallet, id, true)).rejects.toMatchObject({ code: 'pending_not_found' })
    await expect(s.client.resolvePending(s.wallet, 'pnd_nope', true)).rejects.toMatchObject({ code: 'pending_not_found' })
    // Within the cap still signs.
    expect((await ask(1_000n)).signature).toMatch(/^0x/)
  })

  // Expiry is not exercised here: the shortest pendingTtlSeconds the schema accepts is 30 s and the enclave clock is real.
  // evaluatePolicy.approvals.test.ts covers expiry with an explicit `now`.

  it('an approval binds to the purchase: the digest of another pending request under this id is refused', async () => {
    const small = await pendingOf(2_000n)
    const big = await pendingOf(90_000n)
    const pend = (await s.client.wallet(s.wallet)).pending as Array<{ pendingId: string; digest: string; summary: Record<string, unknown> }>
    const a = pend.find((p) => p.pendingId === small)!
    const b = pend.find((p) => p.pendingId === big)!
    expect(a.summary).toMatchObject({ action: { kind: 'eip3009', amount: '2000' }, agentId: s.agentKey.agentId, free: ['nonce', 'validAfter', 'validBefore'] })
    // What a host would do: show the owner the small purchase, get a signature for the big one's id.
    const { signOwnerAct } = await import('../../shared/owner/signOwnerAct.js')
    const w = await s.client.wallet(s.wallet)
    const forged = await signOwnerAct({
      account: s.owner,
      primaryType: 'ResolvePending',
      message: { wallet: s.wallet, pendingId: big, digest: a.digest, approve: true, seq: String(w.ownerSeq + 1) },
    })
    await expect(s.client.request('POST', '/v1/owner/acts', forged)).rejects.toMatchObject({ code: 'owner_act_invalid' })
    await expect(ask(90_000n)).rejects.toBeInstanceOf(ApprovalPendingError)
    expect(b.digest).not.toBe(a.digest)
  })
})
