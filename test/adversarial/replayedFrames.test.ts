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
import { keepPersist, rawConnection } from '../helpers/rawConnection.js'

const REPLAY = ['request_replayed', 'request_before_enclave_start']

/**
 * Attack: the host records frames and sends the exact bytes again — on the
 * same connection, on another one, and to a restarted enclave. A signed agent
 * request is single-use (nonce + start floor), an owner act carries its seq,
 * and load-phase messages are only legal while loading: every replay is
 * refused by code, the ledger counts the payment once, honest traffic signs.
 */
describe('adversarial: replayed frames (exact bytes, real enclave)', () => {
  let host: MaliciousHost
  let owner: LocalAccount
  let wallet: Hex
  let agent: TestAgent
  const AMOUNT = 1000n
  const pay = (value = AMOUNT) => signAgentRequest({ agent, wallet, operation: eip3009({ wallet, value }) })

  beforeAll(async () => {
    ;({ host, owner, wallet, agent } = await startWithAgent(paymentPolicy({ perTx: '1000', rolling24h: '3000' }), 'production')) // replays across a restart meet the production floor
    await host.waitAgentFloor()
  })
  afterAll(async () => {
    await host?.stop()
  })

  let captured: Buffer
  let capturedReq: ReturnType<typeof pay>

  it('a signed agentSign frame resent byte for byte (same and another connection) → request_replayed, no signature', async () => {
    capturedReq = pay()
    captured = encodeFrame({ id: 7, msg: { type: 'agentSign', request: capturedReq.request, signature: capturedReq.signature } })
    const a = await rawConnection(host.socketPath, keepPersist(host))
    a.write(captured)
    const [first] = await a.waitFor(1)
    expect(first!.ok).toBe(true)
    expect(await verifyPayment(wallet, capturedReq.parsed, ((first as { result: AgentSignOk }).result).signature)).toBe(true)
    const b = await rawConnection(host.socketPath, keepPersist(host))
    for (let i = 0; i < 5; i++) {
      a.write(captured)
      b.write(captured)
    }
    const ra = await a.waitFor(6)
    const rb = await b.waitFor(5)
    for (const r of [...ra.slice(1), ...rb]) {
      expect(refusalCode(r)).toBe('request_replayed')
      expect(hasSignature(r)).toBe(false)
    }
    a.close()
    b.close()
  })

  it('the same bytes to a restarted enclave (state reloaded) → refused; the payment is on the ledger once', async () => {
    await host.restartEnclave()
    expect((await host.bootstrapHonest()).ok).toBe(true)
    const c = await rawConnection(host.socketPath, keepPersist(host))
    c.write(captured)
    await host.waitAgentFloor()
    c.write(captured)
    const rs = await c.waitFor(2)
    for (const r of rs) {
      expect(REPLAY).toContain(refusalCode(r))
      expect(hasSignature(r)).toBe(false)
    }
    c.close()
    // Budget 3000 = the captured 1000 + two more; a third is over the cap (the replay was never counted twice, nor forgotten).
    expect((await host.agentSign(pay())).ok).toBe(true)
    expect((await host.agentSign(pay())).ok).toBe(true)
    expect(refusalCode(await host.agentSign(pay(1n)))).toBe('policy_daily_cap_exceeded')
  })

  it('an accepted owner-act decision frame resent → governance_stale, the act itself → owner_act_stale; load-phase frames replayed in ready → phase_illegal', async () => {
    const seq = (await host.ownerSeq(wallet)) + 1
    const body = await signOwnerAct({ account: owner, primaryType: 'FreezeAgent', message: { wallet, agentId: agent.agentId, frozen: false, seq: String(seq) } })
    // Issue 12 stage B: the act's view, governance's decision on it, and the decision frame the host sends back.
    const needs = (await host.callSigner({ type: 'ownerAct', ...body })) as { ok: true; result: { view: Uint8Array; link: Uint8Array } }
    const decided = (await host.decide(needs.result.view, needs.result.link)) as { ok: true; result: { decision: Uint8Array } }
    const frame = encodeFrame({ id: 11, msg: { type: 'ownerActDecision', ...body, decision: decided.result.decision } })
    const c = await rawConnection(host.socketPath, keepPersist(host))
    c.write(frame)
    expect((await c.waitFor(1))[0]!.ok).toBe(true)
    c.write(frame)
    c.write(frame)
    const rs = await c.waitFor(3)
    expect(rs.slice(1).map(refusalCode)).toEqual(['governance_stale', 'governance_stale'])
    expect(refusalCode(await host.call({ type: 'ownerAct', ...body }))).toBe('owner_act_stale')
    expect(await host.ownerSeq(wallet)).toBe(seq)
    // The host replays its bootstrap frames into a running enclave.
    for (const msg of [{ type: 'loadState', snapshot: host.latestSnapshot()!.blob }, { type: 'replayEntries', entries: host.entries.slice(-1) }, { type: 'finishLoad' }])
      c.write(encodeFrame({ id: 12, msg }))
    const more = await c.waitFor(6)
    expect(more.slice(3).map(refusalCode)).toEqual(['phase_illegal', 'phase_illegal', 'phase_illegal'])
    c.close()
  })

  it('honest traffic resumes: a fresh request from the agent is answered (here: over the cap → a typed denial, no signature)', async () => {
    const r = await host.agentSign(pay(1n))
    expect(refusalCode(r)).toBe('policy_daily_cap_exceeded')
    expect(hasSignature(r)).toBe(false)
    const ok = await host.walletAct(owner, 'CreditBudget', wallet, { agentId: agent.agentId, chainId: '84532', asset: '0x036CbD53842c5426634e7929541eC2318f3dCF7e', amount: '1000' })
    expect(ok.ok).toBe(true)
    const req = pay()
    const signed = await host.agentSign(req)
    expect(signed.ok).toBe(true)
    expect(await verifyPayment(wallet, req.parsed, (signed as { result: AgentSignOk }).result.signature)).toBe(true)
  })
})
