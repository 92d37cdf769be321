import type { Hex } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CHAIN_ID, MERCHANT, TOKEN, eip3009, postSign, signedBody, verifyEip3009 } from '../helpers/agentClient.js'
import { ASK_OWNERS_POLICY, type QuorumWallet, startQuorumWallet } from '../helpers/quorumWallet.js'

const askOwners = ASK_OWNERS_POLICY

/**
 * Attack: one owner of a shared wallet (a stolen key, a rogue co-owner) approves a large out-of-policy payment alone,
 * where the owners require two approvals above an amount. Through the real host, enclave and CLI: below the amount
 * one approval suffices (approve threshold 1); above it the lone approval only makes a partial (the agent still gets
 * no signature), the same owner cannot count twice, and a second owner's co-signature through the CLI approves it —
 * then it signs once (viem verifies). Setting the rule itself needed the `owners` quorum (2 of 3).
 */
describe('adversarial: a single owner approves above the amount that needs two', () => {
  let q: QuorumWallet
  const ask = (operation: ReturnType<typeof eip3009>) => postSign(q.stack.url, signedBody({ agentKey: q.agentKey, wallet: q.wallet, operation }))
  const json = (s: string) => JSON.parse(s) as Record<string, any>

  beforeAll(async () => {
    q = await startQuorumWallet({ prefix: 'above', policy: askOwners, quorum: { stopQuorum: '1', approveQuorum: '1', loosenQuorum: '2', agentsQuorum: '2', ownersQuorum: '2' } })
    const rule = ['wallet', 'owners', 'approve-above', '--wallet', q.wallet, '--chain', String(CHAIN_ID), '--asset', TOKEN, '--above', '700', '--quorum', '2', '--json']
    const one = await q.cli(0, rule)
    expect(one.code, one.stdout + one.stderr).toBe(0)
    const p = json(one.stdout).proposal
    expect(p).toMatchObject({ act: 'SetApprovalQuorum', actClass: 'owners', threshold: 2 })
    const two = await q.cli(1, ['proposals', 'sign', '--wallet', q.wallet, p.actHash, '--json'])
    expect(two.code, two.stdout + two.stderr).toBe(0)
    const show = await q.cli(2, ['wallet', 'owners', 'show', '--wallet', q.wallet])
    expect(show.stdout).toContain(`approve above 700 of ${TOKEN.toLowerCase()} on chain ${CHAIN_ID}: 2 of 3`)
  }, 60_000)
  afterAll(async () => {
    await q?.stack.stop()
  })

  it('at or below the amount one owner approves alone', async () => {
    const op = eip3009({ wallet: q.wallet, value: 700n, to: MERCHANT })
    const first = await ask(op)
    expect(first.json.code).toBe('approval_pending')
    const r = await q.clients[2]!.resolvePending(q.wallet, first.json.pendingId as string, true)
    expect(r.proposal).toBeUndefined()
    const ok = await ask(op)
    expect(ok.status).toBe(200)
    expect(await verifyEip3009(q.wallet, op, ok.json.signature as Hex)).toBe(true)
  }, 30_000)

  it('above it one approval is a partial: no signature; the same owner again does not count; a second owner’s co-signature approves', async () => {
    const op = eip3009({ wallet: q.wallet, value: 701n, to: MERCHANT })
    const first = await ask(op)
    expect(first.json.code).toBe('approval_pending')
    const pendingId = first.json.pendingId as string
    const lone = await q.cli(0, ['approve', pendingId, '--wallet', q.wallet, '--json'])
    expect(lone.code, lone.stdout + lone.stderr).toBe(0)
    const partial = json(lone.stdout).proposal
    expect(partial).toMatchObject({ act: 'ResolvePending', actClass: 'approve', threshold: 2, signers: [q.owners[0]!.address] })
    const still = await ask(op)
    expect(still.json.signature).toBeUndefined()
    expect(still.json.code).toBe('approval_pending')
    const twice = await q.cli(0, ['proposals', 'sign', '--wallet', q.wallet, partial.actHash, '--json'])
    expect(json(twice.stdout).error.code).toBe('owner_act_replayed')
    expect((await ask(op)).json.signature).toBeUndefined()
    const second = await q.cli(1, ['proposals', 'sign', '--wallet', q.wallet, partial.actHash, '--json'])
    expect(second.code, second.stdout + second.stderr).toBe(0)
    expect(json(second.stdout)).toMatchObject({ approved: true })
    const ok = await ask(op)
    expect(ok.status).toBe(200)
    expect(await verifyEip3009(q.wallet, op, ok.json.signature as Hex)).toBe(true)
    // Used once.
    expect((await ask(op)).json.signature).toBeUndefined()
  }, 30_000)
})
