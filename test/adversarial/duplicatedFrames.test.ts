import type { Hex, LocalAccount } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { signOwnerAct } from '../../shared/owner/signOwnerAct.js'
import { encodeFrame } from '../../shared/protocol/frame.js'
import {
  type AgentSignOk,
  type MaliciousHost,
  type TestAgent,
  eip3009,
  hasSignature,
  paymentPolicy,
  refusalCode,
  signAgentRequest,
  startWithAgent,
  verifyPayment,
} from '../helpers/maliciousHost.js'
import { type RawConnection, keepPersist, rawConnection } from '../helpers/rawConnection.js'

/**
 * Attack: the host duplicates frames while the first copy is still in
 * flight — the same signed request pipelined many times on one connection
 * and raced over several connections, the same owner act likewise. Exactly
 * one copy may take effect: one signature (the rest `request_replayed`),
 * one ledger entry, one owner seq step (the rest `owner_act_stale`).
 */
describe('adversarial: duplicated frames, in flight at once (real enclave)', () => {
  let host: MaliciousHost
  let owner: LocalAccount
  let wallet: Hex
  let agent: TestAgent
  const pay = (value = 1000n) => signAgentRequest({ agent, wallet, operation: eip3009({ wallet, value }) })
  const conns: RawConnection[] = []

  beforeAll(async () => {
    ;({ host, owner, wallet, agent } = await startWithAgent(paymentPolicy({ perTx: '1000', rolling24h: '5000' })))
    await host.waitAgentFloor()
    for (let i = 0; i < 4; i++) conns.push(await rawConnection(host.socketPath, keepPersist(host)))
  })
  afterAll(async () => {
    for (const c of conns) c.close()
    await host?.stop()
  })

  it('one agent request × 50 copies (pipelined, 4 connections, one write each) → exactly one signature', async () => {
    const req = pay()
    const copies = 50
    for (let i = 0; i < copies; i++) conns[i % 4]!.write(encodeFrame({ id: 100 + i, msg: { type: 'agentSign', request: req.request, signature: req.signature } }))
    const all = (await Promise.all(conns.map((c, k) => c.waitFor(Math.ceil((copies - k) / 4))))).flat()
    expect(all.length).toBe(copies)
    const ok = all.filter((r) => r.ok)
    expect(ok.length).toBe(1)
    expect(await verifyPayment(wallet, req.parsed, (ok[0]!.result as AgentSignOk).signature)).toBe(true)
    for (const r of all.filter((x) => !x.ok)) {
      expect(refusalCode(r)).toBe('request_replayed')
      expect(hasSignature(r)).toBe(false)
    }
    // One ledger entry: the audit log holds one allow for this request.
    const nonce = req.parsed.nonce
    expect(host.entries.map((t) => JSON.parse(t) as { event: string; requestId: string | null }).filter((e) => e.event === 'sign_allowed' && e.requestId === nonce).length).toBe(1)
  })

  it('one owner-act decision × 20 copies at once → applied once (seq +1), the rest governance_stale; the act again → owner_act_stale', async () => {
    const seq = (await host.ownerSeq(wallet)) + 1
    const body = await signOwnerAct({ account: owner, primaryType: 'FreezeAgent', message: { wallet, agentId: agent.agentId, frozen: false, seq: String(seq) } })
    // Issue 12 stage B: the act's view, governance's decision on it; the host duplicates the decision frame.
    const needs = (await host.callSigner({ type: 'ownerAct', ...body })) as { ok: true; result: { view: Uint8Array; link: Uint8Array } }
    const decided = (await host.decide(needs.result.view, needs.result.link)) as { ok: true; result: { decision: Uint8Array } }
    const before = conns.map((c) => c.responses.length)
    for (let i = 0; i < 20; i++) conns[i % 4]!.write(encodeFrame({ id: 500 + i, msg: { type: 'ownerActDecision', ...body, decision: decided.result.decision } }))
    const rs = (await Promise.all(conns.map((c, k) => c.waitFor(before[k]! + 5)))).flatMap((r, k) => r.slice(before[k]!))
    expect(rs.filter((r) => r.ok).length).toBe(1)
    expect(rs.filter((r) => !r.ok).map(refusalCode)).toEqual(new Array(19).fill('governance_stale'))
    // The act itself, relayed again in full: the wallet's seq moved on.
    expect(refusalCode(await host.call({ type: 'ownerAct', ...body }))).toBe('owner_act_stale')
    expect(await host.ownerSeq(wallet)).toBe(seq)
  })

  it('the budget counted the duplicated payment once: 4 more of 1000 sign, the next is over the cap; honest traffic resumes', async () => {
    for (let i = 0; i < 4; i++) {
      const req = pay()
      const r = await host.agentSign(req)
      expect(r.ok).toBe(true)
      expect(await verifyPayment(wallet, req.parsed, (r as { result: AgentSignOk }).result.signature)).toBe(true)
    }
    const over = await host.agentSign(pay(1n))
    expect(refusalCode(over)).toBe('policy_daily_cap_exceeded')
    expect(hasSignature(over)).toBe(false)
  })
})
