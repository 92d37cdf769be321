import type { Hex } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { macOf, openTestSession } from '../helpers/agentSessionTest.js'
import { type MaliciousHost, type TestAgent, eip3009, hasSignature, paymentPolicy, refusalCode, signAgentRequest, startWithAgent } from '../helpers/maliciousHost.js'

/**
 * Attack (cross-enclave confusion through a restart): the host keeps an agent's signed openSession and a MACed
 * request it never forwarded, restarts the enclave, and replays both: the open to get the session re-created in the
 * new enclave (so the kept MACed request would verify there), the request under the old session id. The open is
 * refused (signed before this enclave started: request_before_enclave_start), the old session is unknown to the new
 * enclave (session_unknown), and an open made by the new enclave yields another id and another key, under which
 * the old MAC does not verify.
 */
describe('adversarial: a session open replayed after an enclave restart', () => {
  let host: MaliciousHost
  let wallet: Hex
  let agent: TestAgent

  beforeAll(async () => {
    const s = await startWithAgent(paymentPolicy({ perTx: '5000', rolling24h: '100000' }), 'production') // the floor's own test: start + 2 s
    ;({ host, wallet, agent } = s)
    await host.waitAgentFloor()
  })
  afterAll(async () => {
    await host?.stop()
  })

  it('the open replayed → request_before_enclave_start; the held MACed request → session_unknown, then session_invalid under a new id', async () => {
    const old = await openTestSession(host, agent, wallet)
    const held = signAgentRequest({ agent, wallet, operation: eip3009({ wallet, value: 1000n }) })
    const heldBody = { request: held.request, signature: macOf(old, held.request) }

    await host.restartEnclave()
    expect((await host.bootstrapHonest()).ok).toBe(true)
    await host.waitAgentFloor()

    expect(refusalCode(await host.call({ type: 'agentStatus', ...old.open }))).toBe('request_before_enclave_start')
    const res = await host.agentSign(heldBody)
    expect(refusalCode(res)).toBe('session_unknown')
    expect(hasSignature(res)).toBe(false)
    // The agent opens anew: another id, another key; the held MAC moved onto the new id does not verify.
    const fresh = await openTestSession(host, agent, wallet)
    expect(fresh.id).not.toBe(old.id)
    expect(fresh.key.equals(old.key)).toBe(false)
    const moved = await host.agentSign({ request: held.request, signature: `s1:${fresh.id}:${heldBody.signature.slice(36)}` })
    expect(refusalCode(moved)).toBe('session_invalid')
    expect(hasSignature(moved)).toBe(false)
  })
})
