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

const REPLAY_CODES = ['request_replayed', 'request_before_enclave_start', 'request_stale']
const hasSignature = (json: unknown) => /0x[0-9a-fA-F]{130}(?![0-9a-fA-F])/.test(JSON.stringify(json))

/** A captured agent request body, resent through the host, never signs twice: not now, not after the enclave restarts. */
describe('restart: a replayed agent request is refused, also after an enclave restart (real host + enclave)', () => {
  let s: StackWithAgent
  let captured: SignedBody
  let op: ReturnType<typeof eip3009>
  beforeAll(async () => {
    s = await stackWithAgent(paymentPolicy({ perTx: '1000', rolling24h: '100000' }))
    await waitAgentFloor()
  })
  afterAll(async () => {
    await s?.stack.stop()
  })

  it('signs the captured body once; the identical body again → request_replayed, no signature', async () => {
    op = eip3009({ wallet: s.wallet, value: 700n })
    captured = signedBody({ agentKey: s.agentKey, wallet: s.wallet, operation: op })
    const first = await postSign(s.stack.url, captured)
    expect(first.status).toBe(200)
    expect(await verifyEip3009(s.wallet, op, first.json.signature as Hex)).toBe(true)
    const again = await postSign(s.stack.url, captured)
    expect(again.status).toBe(409)
    expect(again.json.code).toBe('request_replayed')
    expect(hasSignature(again.json)).toBe(false)
  })

  it('after the enclave restarts (host reconnects and reloads state) the identical body is still refused', async () => {
    await s.stack.stopEnclave()
    await s.stack.startEnclave()
    await s.stack.waitReady()
    const right = await postSign(s.stack.url, captured)
    expect(REPLAY_CODES).toContain(right.json.code)
    expect(hasSignature(right.json)).toBe(false)
    // Still refused once the new enclave's start-up floor has passed (its replay cache is empty now).
    await waitAgentFloor()
    const later = await postSign(s.stack.url, captured)
    expect(REPLAY_CODES).toContain(later.json.code)
    expect(hasSignature(later.json)).toBe(false)

    // And after a restart of both processes.
    await s.stack.stopHost()
    await s.stack.stopEnclave()
    await s.stack.startEnclave()
    await s.stack.startHost()
    await s.stack.waitReady()
    await waitAgentFloor()
    const both = await postSign(s.stack.url, captured)
    expect(REPLAY_CODES).toContain(both.json.code)
    expect(hasSignature(both.json)).toBe(false)

    // The agent's fresh requests work, and the ledger counted the captured payment exactly once.
    const fresh = eip3009({ wallet: s.wallet, value: 1000n })
    expect(await verifyEip3009(s.wallet, fresh, (await requestSignature({ host: s.stack.url, agentKey: s.agentKey, wallet: s.wallet, operation: fresh })).signature)).toBe(true)
    const entries = await auditEntries(s.stack.url, s.owner, { agent: s.agentKey.agentId })
    const allowed = entries.filter((e) => e.event === 'sign_allowed')
    expect(allowed.map((e) => (e.action as { amount?: string } | null)?.amount)).toEqual(['700', '1000'])
    expect(entries.filter((e) => e.requestId === JSON.parse(captured.request).nonce && e.event === 'sign_allowed').length).toBe(1)
  })
})
