import { randomBytes } from 'node:crypto'
import type { Hex } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  type MaliciousHost,
  type TestAgent,
  eip3009,
  hasSignature,
  newAgent,
  paymentPolicy,
  refusalCode,
  resign,
  signAgentRequest,
  startWithAgent,
  verifyPayment,
} from '../helpers/maliciousHost.js'

/**
 * Attack: the host re-sends a captured agent request (same connection, after
 * an enclave restart), edits a field under the old signature, or presents a
 * request signed by another agent's key. Each must be refused with no signature.
 */
describe('adversarial: replayed and altered agent requests', () => {
  let host: MaliciousHost
  let wallet: Hex
  let agent: TestAgent
  let other: TestAgent
  let captured: ReturnType<typeof signAgentRequest>

  beforeAll(async () => {
    const s = await startWithAgent(paymentPolicy({ perTx: '5000', rolling24h: '100000' }), 'production') // the floor's own test: start + 2 s
    host = s.host
    wallet = s.wallet
    agent = s.agent
    // A second agent on the same wallet, with the same policy.
    other = (await host.setupAgent(s.owner, wallet, paymentPolicy({ perTx: '5000', rolling24h: '100000' }), newAgent())).agent
    await host.waitAgentFloor()
  })
  afterAll(async () => {
    await host?.stop()
  })

  it('signs a fresh request once; the identical bytes again → request_replayed, no signature', async () => {
    captured = signAgentRequest({ agent, wallet, operation: eip3009({ wallet, value: 1000n }) })
    const first = await host.agentSign(captured)
    expect(first.ok).toBe(true)
    const sig = (first as { result: { signature: Hex } }).result.signature
    expect(await verifyPayment(wallet, captured.parsed, sig)).toBe(true)

    const again = await host.agentSign(captured)
    expect(refusalCode(again)).toBe('request_replayed')
    expect(hasSignature(again)).toBe(false)
    // On a second connection too: the replay cache is the enclave's, not the connection's.
    const conn2 = await host.connect()
    const viaOther = await host.agentSign(captured, conn2)
    conn2.close()
    expect(refusalCode(viaOther)).toBe('request_replayed')
    expect(hasSignature(viaOther)).toBe(false)
  })

  it('a field changed under the old signature → agent_signature_invalid (amount, payTo, wallet-side nonce)', async () => {
    const base = signAgentRequest({ agent, wallet, operation: eip3009({ wallet, value: 1000n }) })
    const edits: ((r: Record<string, unknown>) => void)[] = [
      (r) => ((r.typedData as { message: Record<string, string> }).message.value = '4999'),
      (r) => ((r.typedData as { message: Record<string, string> }).message.to = '0x000000000000000000000000000000000000dEaD'),
      (r) => (r.nonce = 'f'.repeat(32)),
      (r) => (r.issuedAt = (r.issuedAt as number) + 1),
    ]
    for (const edit of edits) {
      const obj = JSON.parse(base.request) as Record<string, unknown>
      edit(obj)
      const res = await host.agentSign({ request: JSON.stringify(obj), signature: base.signature })
      expect(refusalCode(res)).toBe('agent_signature_invalid')
      expect(hasSignature(res)).toBe(false)
    }
    // Whitespace-only change: the signature covers bytes, not meaning.
    const spaced = await host.agentSign({ request: ` ${base.request}`, signature: base.signature })
    expect(refusalCode(spaced)).toBe('agent_signature_invalid')
    // The untouched original still works (nothing above consumed its nonce).
    expect((await host.agentSign(base)).ok).toBe(true)
  })

  it("a request naming agent A but signed with agent B's key → agent_signature_invalid; a key never registered → refused", async () => {
    const forged = signAgentRequest({ agent, wallet, operation: eip3009({ wallet, value: 1000n }), signer: other.privateKey })
    const res = await host.agentSign(forged)
    expect(refusalCode(res)).toBe('agent_signature_invalid')
    expect(hasSignature(res)).toBe(false)

    const stranger = newAgent()
    const unknown = signAgentRequest({ agent: stranger, wallet, operation: eip3009({ wallet, value: 1000n }) })
    const res2 = await host.agentSign(unknown)
    expect(refusalCode(res2)).toBe('agent_not_found')
    expect(hasSignature(res2)).toBe(false)

    // B's own valid request signs (B is a real agent; only the cross-signing is refused).
    const mine = signAgentRequest({ agent: other, wallet, operation: eip3009({ wallet, value: 1000n }) })
    expect((await host.agentSign(mine)).ok).toBe(true)
    // The host re-signing A's text with B's key and B's id spliced in changes the bytes: B's request, B's budget.
    const spliced = captured.request.replace(agent.agentId, other.agentId)
    const res3 = await host.agentSign({ request: spliced, signature: captured.signature })
    expect(refusalCode(res3)).toBe('agent_signature_invalid')
  })

  it('after an enclave restart the captured request is refused (request_before_enclave_start), no signature', async () => {
    await host.restartEnclave()
    const ready = await host.bootstrapHonest()
    expect(ready.ok).toBe(true)
    const res = await host.agentSign(captured)
    expect(refusalCode(res)).toBe('request_before_enclave_start')
    expect(hasSignature(res)).toBe(false)
    // A read signed now, inside the new enclave's start floor, is refused the same way and says when to retry.
    const read = JSON.stringify({ v: 1, agentId: agent.agentId, wallet, nonce: randomBytes(16).toString('hex'), issuedAt: Date.now(), op: 'readStatus' })
    const early = await host.conn!.call({ type: 'agentStatus', request: read, signature: resign(read, agent.privateKey) })
    expect(refusalCode(early)).toBe('request_before_enclave_start')
    const retryAfterMs = early.ok ? 0 : Number(early.error.retryAfterMs)
    expect(retryAfterMs).toBeGreaterThan(0)
    expect(retryAfterMs).toBeLessThanOrEqual(2_001)
    // Still refused once the new floor has passed (the request predates this process).
    await host.waitAgentFloor()
    const later = await host.agentSign(captured)
    expect(['request_before_enclave_start', 'request_stale']).toContain(refusalCode(later))
    expect(hasSignature(later)).toBe(false)
    // A fresh request from the agent works: the restart itself did not break anything.
    const fresh = signAgentRequest({ agent, wallet, operation: eip3009({ wallet, value: 1000n }) })
    const ok = await host.agentSign(fresh)
    expect(ok.ok).toBe(true)
    expect(await verifyPayment(wallet, fresh.parsed, (ok as { result: { signature: Hex } }).result.signature)).toBe(true)
  })

  it('a request older than the 30 s window → request_stale; one from the future → request_not_yet_valid', async () => {
    const old = signAgentRequest({ agent, wallet, operation: eip3009({ wallet, value: 1000n }), issuedAt: Date.now() - 60_000 })
    expect(refusalCode(await host.agentSign(old))).toBe('request_stale')
    const future = signAgentRequest({ agent, wallet, operation: eip3009({ wallet, value: 1000n }), issuedAt: Date.now() + 60_000 })
    expect(refusalCode(await host.agentSign(future))).toBe('request_not_yet_valid')
  })
})
