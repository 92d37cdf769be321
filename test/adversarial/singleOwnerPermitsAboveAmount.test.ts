import type { Hex } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CHAIN_ID, MERCHANT, TOKEN, eip3009, postSign, signedBody, verifyEip3009 } from '../helpers/agentClient.js'
import { ASK_OWNERS_POLICY, type QuorumWallet, startQuorumWallet } from '../helpers/quorumWallet.js'

const askOwners = ASK_OWNERS_POLICY

/**
 * Attack: the owners require two approvals for any payment above 700 (SetApprovalQuorum), but one owner (a stolen
 * key, a rogue co-owner, or an owner a prompt-injected agent talked into it) approves the payment *in advance*: an
 * IssuePermit for 5000 to the payee is an `approve`-class act (threshold 1), and a permit replaces the rules — so the
 * agent would be signed 5000 with one owner's word. The enclave must raise an IssuePermit (and a CreditBudget, which
 * gives spent budget back) above the rule's amount to the rule's quorum, like ResolvePending: a lone permit is a
 * partial, and the agent naming it gets no signature; the second owner's co-signature makes it usable (viem checks).
 */
describe('adversarial: a single owner permits a payment above the amount that needs two approvals', () => {
  let q: QuorumWallet
  const permit = (who: number, permitId: string, amount: bigint, exceedCaps = true) =>
    q.clients[who]!.act('IssuePermit', q.wallet, {
      agentId: q.agentKey.agentId,
      permitId,
      chainId: String(CHAIN_ID),
      asset: TOKEN,
      amount: String(amount),
      payTo: MERCHANT,
      host: '',
      expiresAt: String(Date.now() + 3_600_000),
      exceedCaps,
    })
  const pay = (value: bigint, permitId: string) =>
    postSign(q.stack.url, signedBody({ agentKey: q.agentKey, wallet: q.wallet, operation: eip3009({ wallet: q.wallet, value, to: MERCHANT }), extra: { permitId } }))

  beforeAll(async () => {
    q = await startQuorumWallet({ prefix: 'permit-above', policy: askOwners, quorum: { stopQuorum: '1', approveQuorum: '1', loosenQuorum: '2', agentsQuorum: '2', ownersQuorum: '2' } })
    const rule = { chainId: String(CHAIN_ID), asset: TOKEN, above: '700', quorum: '2' }
    const one = await q.clients[0]!.act('SetApprovalQuorum', q.wallet, rule)
    expect(one.proposal).toMatchObject({ act: 'SetApprovalQuorum', threshold: 2 })
    const two = await q.clients[1]!.cosign(q.wallet, one.proposal!.actHash)
    expect(two.proposal).toBeUndefined()
  }, 60_000)
  afterAll(async () => {
    await q?.stack.stop()
  })

  it('at or below the amount one owner’s permit is usable at once', async () => {
    const r = await permit(2, 'small', 700n)
    expect(r.proposal).toBeUndefined()
    const op = eip3009({ wallet: q.wallet, value: 700n, to: MERCHANT })
    const ok = await postSign(q.stack.url, signedBody({ agentKey: q.agentKey, wallet: q.wallet, operation: op, extra: { permitId: 'small' } }))
    expect(ok.status).toBe(200)
    expect(await verifyEip3009(q.wallet, op, ok.json.signature as Hex)).toBe(true)
  }, 30_000)

  it('above it one owner’s permit is only a partial: the agent naming it gets no signature until a second owner co-signs', async () => {
    const lone = await permit(2, 'big', 5000n)
    expect(lone.proposal).toMatchObject({ act: 'IssuePermit', actClass: 'approve', threshold: 2 })
    const refused = await pay(5000n, 'big')
    expect(refused.json.signature).toBeUndefined()
    expect(refused.json.code).toBe('policy_permit_invalid')
    const second = await q.clients[0]!.cosign(q.wallet, lone.proposal!.actHash)
    expect(second.proposal).toBeUndefined()
    const op = eip3009({ wallet: q.wallet, value: 5000n, to: MERCHANT })
    const ok = await postSign(q.stack.url, signedBody({ agentKey: q.agentKey, wallet: q.wallet, operation: op, extra: { permitId: 'big' } }))
    expect(ok.status).toBe(200)
    expect(await verifyEip3009(q.wallet, op, ok.json.signature as Hex)).toBe(true)
  }, 30_000)

  it('a budget credit above the amount needs the rule’s quorum too', async () => {
    const lone = await q.clients[2]!.act('CreditBudget', q.wallet, { agentId: q.agentKey.agentId, chainId: String(CHAIN_ID), asset: TOKEN, amount: '5000' })
    expect(lone.proposal).toMatchObject({ act: 'CreditBudget', threshold: 2 })
    // The lone 700 permit above used the rule's amount for 24 h (agentSplitsBelowApproveAbove): a lone credit of even
    // 1 more now needs the quorum too.
    const small = await q.clients[2]!.act('CreditBudget', q.wallet, { agentId: q.agentKey.agentId, chainId: String(CHAIN_ID), asset: TOKEN, amount: '1' })
    expect(small.proposal).toMatchObject({ act: 'CreditBudget', threshold: 2 })
  }, 30_000)
})
