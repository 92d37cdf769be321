import type { Hex } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { requestSignature } from '../../agent/requestSignature.js'
import {
  type SignedBody,
  type StackWithAgent,
  auditEntries,
  eip3009,
  paymentPolicy,
  postSign,
  signedBody,
  stackWithAgent,
  verifyEip3009,
  waitAgentFloor,
} from '../helpers/agentClient.js'

/**
 * A captured agent request body, resent through the host, never signs twice: not now, not after the enclave
 * restarts. Since issue 23 the host answers an identical resend with the stored answer of the first copy (the same
 * signature, nothing new decided); a replay that reaches the enclave itself is refused there (request_replayed /
 * request_before_enclave_start: test/adversarial/replayAgentRequest.test.ts).
 */
describe('restart: a replayed agent request is answered once, also after an enclave restart (real host + enclave)', () => {
  let s: StackWithAgent
  let captured: SignedBody
  let op: ReturnType<typeof eip3009>
  let firstSignature = ''
  beforeAll(async () => {
    s = await stackWithAgent(paymentPolicy({ perTx: '1000', rolling24h: '100000' }), { agentFloor: 'production' })
    await waitAgentFloor()
  })
  afterAll(async () => {
    await s?.stack.stop()
  })

  it('signs the captured body once; the identical body again → the same stored answer, no new signature', async () => {
    op = eip3009({ wallet: s.wallet, value: 700n })
    captured = signedBody({ agentKey: s.agentKey, wallet: s.wallet, operation: op })
    const first = await postSign(s.stack.url, captured)
    expect(first.status).toBe(200)
    expect(await verifyEip3009(s.wallet, op, first.json.signature as Hex)).toBe(true)
    firstSignature = first.json.signature as string
    const again = await postSign(s.stack.url, captured)
    expect([again.status, again.json.signature]).toEqual([200, firstSignature])
  })

  it('after the enclave restarts (host reconnects and reloads state) the identical body still gets only the stored answer', async () => {
    await s.stack.stopEnclave()
    await s.stack.startEnclave()
    await s.stack.waitReady()
    const right = await postSign(s.stack.url, captured)
    expect([right.status, right.json.signature]).toEqual([200, firstSignature])
    // Still refused once the new enclave's start-up floor has passed (its replay cache is empty now).
    await waitAgentFloor()
    const later = await postSign(s.stack.url, captured)
    expect([later.status, later.json.signature]).toEqual([200, firstSignature])

    // And after a restart of both processes.
    await s.stack.stopHost()
    await s.stack.stopEnclave()
    await s.stack.startEnclave()
    await s.stack.startHost()
    await s.stack.waitReady()
    await waitAgentFloor()
    const both = await postSign(s.stack.url, captured)
    expect([both.status, both.json.signature]).toEqual([200, firstSignature])

    // The agent's fresh requests work, and the ledger counted the captured payment exactly once.
    const fresh = eip3009({ wallet: s.wallet, value: 1000n })
    expect(await verifyEip3009(s.wallet, fresh, (await requestSignature({ host: s.stack.url, agentKey: s.agentKey, wallet: s.wallet, operation: fresh })).signature)).toBe(true)
    const entries = await auditEntries(s.stack.url, s.owner, { agent: s.agentKey.agentId })
    const allowed = entries.filter((e) => e.event === 'sign_allowed')
    expect(allowed.map((e) => (e.action as { amount?: string } | null)?.amount)).toEqual(['700', '1000'])
    expect(entries.filter((e) => e.requestId === JSON.parse(captured.request).nonce && e.event === 'sign_allowed').length).toBe(1)
  })
})
