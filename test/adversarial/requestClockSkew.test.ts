import { afterEach, describe, expect, it, vi } from 'vitest'
import { requestSignature } from '../../agent/requestSignature.js'
import type { AuditEntry } from '../../shared/audit/auditEntry.js'
import { auditEntries, eip3009, paymentPolicy, postSign, signedBody, stackWithAgent, verifyEip3009 } from '../helpers/agentClient.js'
import { stackWithAgentPerFile } from '../helpers/stackWithAgentPerFile.js'

/**
 * Attack surface: an agent clock ahead of or behind the enclave's. The deadline is the agent's (signed) but it is
 * enforced by the enclave's clock, so within the allowed skew a request works; outside it the agent gets a typed
 * error, and nothing is signed. A deadline longer than the replay window is refused outright.
 */
describe('adversarial: agent clock skew against the request deadline', () => {
  const send = (issuedAt: number, expiresAt: number) => {
    const operation = eip3009({ wallet: s.wallet, value: 1_000n })
    const body = signedBody({ agentKey: s.agentKey, wallet: s.wallet, operation, extra: { issuedAt, expiresAt } })
    return postSign(s.stack.url, body).then((r) => ({ ...r, operation, nonce: (JSON.parse(body.request) as { nonce: string }).nonce }))
  }

  // A behind clock dates requests before a freshly started enclave (request_before_enclave_start: issuedAt must be
  // after its start + 2 s). The enclave started at some point before stackWithAgent returned (under load, seconds
  // after the hook began), so the 10.5 s are counted from the return, not from the hook's start.
  const s = stackWithAgentPerFile(paymentPolicy({ perTx: '1000', rolling24h: '1000000' }), { agentFloor: 'production', floorMs: 10_500 })
  afterEach(() => {
    vi.restoreAllMocks()
  })

  it.each([
    ['ahead 1.5 s (within the 2 s future skew)', 1_500, 10_000],
    ['behind 5 s, deadline 10 s', -5_000, 10_000],
    ['behind 8 s, deadline 30 s', -8_000, 30_000],
  ])('agent clock %s: signed', async (_name, skew, lifetime) => {
    const issuedAt = Date.now() + skew
    const r = await send(issuedAt, issuedAt + lifetime)
    expect(r.status).toBe(200)
    expect(await verifyEip3009(s.wallet, r.operation, r.json.signature as `0x${string}`)).toBe(true)
  })

  it.each([
    ['ahead 60 s', 60_000, 10_000, 'request_not_yet_valid', false],
    ['behind 60 s (past the replay window)', -60_000, 30_000, 'request_stale', false],
    ['behind 8 s with a 5 s deadline (deadline already past by the enclave clock)', -8_000, 5_000, 'request_expired', true],
  ])('agent clock %s: typed refusal, nothing signed', async (_name, skew, lifetime, code, audited) => {
    const issuedAt = Date.now() + skew
    const r = await send(issuedAt, issuedAt + lifetime)
    expect([r.json.code, r.json.signature]).toEqual([code, undefined])
    const entries = await auditEntries(s.stack.url, s.owner, { agent: s.agentKey.agentId })
    const e = entries.filter((x: AuditEntry) => x.requestId === r.nonce)
    // request_expired is decided in the writer and audited; clock refusals before it leave no entry.
    expect(e).toHaveLength(audited ? 1 : 0)
    if (audited) expect([e[0]!.event, e[0]!.code, e[0]!.signedHash]).toEqual(['sign_denied', code, null])
  })

  it.each([
    ['longer than the replay window', 30_001],
    ['not after issuedAt', 0],
    ['before issuedAt', -1],
  ])('a deadline %s is request_deadline_invalid', async (_name, lifetime) => {
    const issuedAt = Date.now()
    const r = await send(issuedAt, issuedAt + lifetime)
    expect([r.status, r.json.code]).toEqual([400, 'request_deadline_invalid'])
  })

  it('SDK on a clock 60 s ahead: a typed request_not_yet_valid (after one fresh retry), never a signature', async () => {
    const real = Date.now.bind(Date)
    vi.spyOn(Date, 'now').mockImplementation(() => real() + 60_000)
    const err = await requestSignature({
      host: s.stack.url,
      agentKey: s.agentKey,
      wallet: s.wallet,
      operation: eip3009({ wallet: s.wallet, value: 1_000n }),
      timeoutMs: 5_000,
    }).catch((e: unknown) => e)
    expect((err as { code?: string }).code).toBe('request_not_yet_valid')
  })
})
