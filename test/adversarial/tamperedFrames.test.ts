import type { Hex } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { signOwnerAct } from '../../shared/owner/signOwnerAct.js'
import { encodeFrame } from '../../shared/protocol/frame.js'
import {
  type AgentSignOk,
  type MaliciousHost,
  type TestAgent,
  MERCHANT,
  eip3009,
  hasSignature,
  paymentPolicy,
  refusalCode,
  signAgentRequest,
  startWithAgent,
  verifyPayment,
} from '../helpers/maliciousHost.js'
import { keepPersist, rawConnection } from '../helpers/rawConnection.js'
import type { LocalAccount } from 'viem'

const OTHER = '0x5B38Da6a701c568545dCfcB03FcB875f56beddC4' as const

/**
 * Attack: the host edits frames in transit — the agent's request text (amount,
 * pay-to), its signature, an owner act's fields, or raw bytes anywhere in the
 * frame. Agent requests are Ed25519-signed over their exact text and owner
 * acts are EIP-712 signed, so an edit is refused with its exact code and
 * nothing is signed; honest frames on the same connection still sign.
 */
describe('adversarial: tampered frames (real enclave, raw frame bytes)', () => {
  let host: MaliciousHost
  let owner: LocalAccount
  let wallet: Hex
  let agent: TestAgent
  const pay = (value = 500n) => signAgentRequest({ agent, wallet, operation: eip3009({ wallet, value }) })

  beforeAll(async () => {
    ;({ host, owner, wallet, agent } = await startWithAgent(paymentPolicy({ perTx: '1000', rolling24h: '3000' })))
    await host.waitAgentFloor()
  })
  afterAll(async () => {
    await host?.stop()
  })

  it('an edited amount or pay-to under the agent signature → agent_signature_invalid, no signature', async () => {
    const req = pay(500n)
    for (const edited of [req.request.replace('"value":"500"', '"value":"999999"'), req.request.replace(MERCHANT, OTHER)]) {
      expect(edited).not.toBe(req.request)
      const r = await host.agentSign({ request: edited, signature: req.signature })
      expect(refusalCode(r)).toBe('agent_signature_invalid')
      expect(hasSignature(r)).toBe(false)
    }
    // A flipped signature byte.
    const flipped = `${req.signature.slice(0, 10)}${req.signature[10] === '0' ? '1' : '0'}${req.signature.slice(11)}`
    const r = await host.agentSign({ request: req.request, signature: flipped })
    expect(refusalCode(r)).toBe('agent_signature_invalid')
  })

  it('an owner act with an edited field under the owner signature → owner_not_authorized, state unchanged', async () => {
    const seq = (await host.ownerSeq(wallet)) + 1
    const body = await signOwnerAct({ account: owner, primaryType: 'FreezeAgent', message: { wallet, agentId: agent.agentId, frozen: false, seq: String(seq) } })
    const edited = body.message.replace('"frozen":false', '"frozen":true')
    const r = await host.call({ type: 'ownerAct', ...body, message: edited })
    expect(refusalCode(r)).toBe('owner_not_authorized')
    expect(await host.ownerSeq(wallet)).toBe(seq - 1)
    expect((await host.wallets()).find((w) => w.address === wallet)?.agents.find((a) => a.agentId === agent.agentId)).toMatchObject({ frozen: false })
  })

  it('every single-byte edit of an agentSign frame: a typed refusal, or the untouched request signed at most once', async () => {
    const req = pay(700n)
    const frame = encodeFrame({ id: 4242, msg: { type: 'agentSign', request: req.request, signature: req.signature } })
    const c = await rawConnection(host.socketPath, keepPersist(host))
    // Edit every byte after the length prefix (one edit per frame), sent pipelined on one connection.
    const n = frame.length - 4
    for (let i = 4; i < frame.length; i++) {
      const f = Buffer.from(frame)
      f[i] = f[i]! ^ 0x20
      c.write(f)
    }
    const rs = await c.waitFor(n, 30_000)
    expect(rs.length).toBe(n)
    const signed = rs.filter((r) => r.ok)
    // Only an edit that leaves the signed text intact (e.g. the frame id) may sign, and only once: the request is single-use.
    expect(signed.length).toBeLessThanOrEqual(1)
    for (const s of signed) expect(await verifyPayment(wallet, req.parsed, (s.result as AgentSignOk).signature)).toBe(true)
    const codes = new Set(rs.filter((r) => !r.ok).map((r) => refusalCode(r)))
    for (const code of codes)
      expect(['frame_invalid_cbor', 'message_invalid', 'message_unknown_type', 'agent_signature_invalid', 'request_invalid', 'request_replayed', 'agent_not_found', 'wallet_not_found']).toContain(code)
    expect(codes.has('agent_signature_invalid')).toBe(true)
    expect(codes.has('frame_invalid_cbor') || codes.has('message_invalid')).toBe(true)
    c.close()
  })

  it('honest traffic resumes: a fresh payment signs and verifies; the budget counted only what was signed', async () => {
    const req = pay(1000n)
    const r = await host.agentSign(req)
    expect(r.ok).toBe(true)
    expect(await verifyPayment(wallet, req.parsed, (r as { result: AgentSignOk }).result.signature)).toBe(true)
  })
})
