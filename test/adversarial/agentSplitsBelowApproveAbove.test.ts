import type { Hex } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CHAIN_ID, MERCHANT, TOKEN, eip3009, postSign, signedBody, verifyEip3009 } from '../helpers/agentClient.js'
import { ASK_OWNERS_POLICY, type QuorumWallet, startQuorumWallet } from '../helpers/quorumWallet.js'

const askOwners = ASK_OWNERS_POLICY

/**
 * Attack (prompt-injected agent): the owners require two approvals above 700 (SetApprovalQuorum). The agent, told to
 * pay about 2800 to one payee, splits it into four pending requests of ~700 each; one owner (or one owner's approval bot)
 * approves each alone, and 2800 leaves on one owner's word within minutes.
 *
 * Fixed (Safe-style allowance): the enclave keeps, per wallet and (chain, asset), what approvals below a rule's quorum
 * let spend over a rolling 24 h (sealed with the wallet), and an approval needs the rule's quorum once that sum plus
 * this request's spend passes `above` (core/owner/quorum.ts approveThreshold, loneApprovals).
 */
describe('adversarial: an agent splits a payment below the approve-above amount', () => {
  let q: QuorumWallet
  const ask = (operation: ReturnType<typeof eip3009>) => postSign(q.stack.url, signedBody({ agentKey: q.agentKey, wallet: q.wallet, operation }))

  beforeAll(async () => {
    q = await startQuorumWallet({ prefix: 'split', policy: askOwners, quorum: { stopQuorum: '1', approveQuorum: '1', loosenQuorum: '2', agentsQuorum: '2', ownersQuorum: '2' } })
    const one = await q.clients[0]!.act('SetApprovalQuorum', q.wallet, { chainId: String(CHAIN_ID), asset: TOKEN, above: '700', quorum: '2' })
    expect((await q.clients[1]!.cosign(q.wallet, one.proposal!.actHash)).proposal).toBeUndefined()
  }, 60_000)
  afterAll(async () => {
    await q?.stack.stop()
  })

  it('four lone approvals of about 700 to one payee: once they pass 700 together, a lone approval is only a partial', async () => {
    const proposals: unknown[] = []
    for (let i = 0; i < 4; i++) {
      // 700, 699, 698, 697: distinct requests (the same amount to the same payee would be a retry of the open one).
      const op = eip3009({ wallet: q.wallet, value: 700n - BigInt(i), to: MERCHANT })
      const first = await ask(op)
      expect(first.json.code).toBe('approval_pending')
      const r = await q.clients[2]!.resolvePending(q.wallet, first.json.pendingId as string, true)
      proposals.push(r.proposal)
      if (!r.proposal) {
        const ok = await ask(op)
        expect(await verifyEip3009(q.wallet, op, ok.json.signature as Hex)).toBe(true)
      }
    }
    // Secure behaviour: the first 700 alone is fine; the ones that take the sum above 700 need the second owner.
    expect(proposals[0]).toBeUndefined()
    expect(proposals.slice(1)).toEqual([expect.objectContaining({ threshold: 2 }), expect.objectContaining({ threshold: 2 }), expect.objectContaining({ threshold: 2 })])
  }, 60_000)
})
