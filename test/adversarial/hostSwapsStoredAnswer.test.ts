import { type Server, createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { type Hex, hashTypedData } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bursarAccount } from '../../agent/bursarAccount.js'
import { auditEntries, eip3009, eip3009TypedData, paymentPolicy, postSign, signedBody, verifyEip3009 } from '../helpers/agentClient.js'
import { stackWithAgentPerFile } from '../helpers/stackWithAgentPerFile.js'

const AMOUNT = 1_000n
type Answer = { status: number; body: string }
/** What the malicious host does with the i-th sign request: forward it (and see the real answer), then answer anything. */
type Tamper = (i: number, body: string, forward: () => Promise<Answer>) => Promise<Answer>

/**
 * Attack (a malicious host, between the SDK and the real host + enclave): (1) on the SDK's resend it answers with a
 * stored answer of ANOTHER request — a genuine enclave signature by the same wallet, over another payment — hoping
 * the SDK takes a stored answer for other bytes; (2) it lets the enclave sign, then tells the SDK
 * `request_before_enclave_start` (a refusal that, on a first send, proves nothing was decided), so the SDK signs
 * afresh: a second signature for one purchase. (1) must be refused (response_signer_mismatch: the SDK checks every
 * answer against its own digest); (2) the fresh request must carry the SAME authorization (same EIP-3009 nonce: at
 * most one of the two signatures can ever settle). Refusals are not signed by the enclave, so the budget does count
 * it twice (a residual the audit shows: two entries with one signedHash).
 */
describe('adversarial: a malicious host swaps a stored answer or lies to get a second signature', () => {
  let proxy: Server
  let url = ''
  let tamper: Tamper = (_i, _b, forward) => forward()
  let seen = 0

  const s = stackWithAgentPerFile(paymentPolicy({ perTx: AMOUNT.toString(), rolling24h: (AMOUNT * 100n).toString() }), { agentFloor: 'production' })
  beforeAll(async () => {
    proxy = createServer((req, res) => {
      let body = ''
      req.on('data', (d: Buffer) => (body += d.toString()))
      req.on('end', async () => {
        const forward = async () => {
          const r = await fetch(`${s.stack.url}${req.url}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
          return { status: r.status, body: await r.text() }
        }
        const a = req.url === '/v1/agent/sign' ? await tamper(seen++, body, forward) : await forward()
        res.writeHead(a.status, { 'content-type': 'application/json' }).end(a.body)
      })
    })
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r))
    url = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`
  })
  afterAll(async () => {
    proxy?.closeAllConnections()
    await new Promise((r) => proxy?.close(r))
  })

  const typed = eip3009TypedData

  it('the resend is answered with the stored answer of another payment: refused (response_signer_mismatch)', async () => {
    // An earlier payment of this wallet, decided and stored: its answer is what the host replays.
    const earlierOp = eip3009({ wallet: s.wallet, value: AMOUNT })
    const earlier = await postSign(s.stack.url, signedBody({ agentKey: s.agentKey, wallet: s.wallet, operation: earlierOp }))
    expect(earlier.status).toBe(200)
    const account = bursarAccount({ host: url, agentKey: s.agentKey, wallet: s.wallet, timeoutMs: 10_000 })
    // Teach the SDK the wallet's key with one honest answer first (the check then compares key bytes).
    tamper = (_i, _b, forward) => forward()
    await account.signTypedData(typed(eip3009({ wallet: s.wallet, value: AMOUNT })))
    const bodies: string[] = []
    tamper = async (i, body, forward) => {
      bodies.push(body)
      if (bodies.length === 1) {
        await forward() // the enclave signs this one; the host keeps the answer
        return { status: 503, body: JSON.stringify({ code: 'enclave_timeout', message: 'slow' }) }
      }
      return { status: 200, body: JSON.stringify(earlier.json) }
    }
    const op = eip3009({ wallet: s.wallet, value: AMOUNT })
    await expect(account.signTypedData(typed(op))).rejects.toMatchObject({ code: 'response_signer_mismatch' })
    expect(bodies.length).toBe(2)
    expect(bodies[1]).toBe(bodies[0]) // the SDK resent the same bytes, never a second request
  }, 60_000)

  it('a lie (request_before_enclave_start) after the enclave signed: the fresh request is the same authorization', async () => {
    const requests: string[] = []
    const real: Record<string, unknown>[] = []
    tamper = async (_i, body, forward) => {
      requests.push(body)
      const a = await forward()
      real.push(JSON.parse(a.body) as Record<string, unknown>)
      if (requests.length === 1) return { status: 409, body: JSON.stringify({ code: 'request_before_enclave_start', message: 'restarted', retryAfterMs: 10 }) }
      return a
    }
    const account = bursarAccount({ host: url, agentKey: s.agentKey, wallet: s.wallet, timeoutMs: 10_000 })
    const op = eip3009({ wallet: s.wallet, value: AMOUNT })
    const signature = await account.signTypedData(typed(op))
    expect(await verifyEip3009(s.wallet, op, signature)).toBe(true)
    expect(requests).toHaveLength(2)
    const [a, b] = requests.map((r) => JSON.parse((JSON.parse(r) as { request: string }).request) as { nonce: string; typedData: unknown })
    expect(a!.nonce).not.toBe(b!.nonce) // a fresh request (the SDK believed nothing was decided)...
    expect(b!.typedData).toEqual(a!.typedData) // ...for the very same authorization
    // Both signatures the enclave made are over one digest: one EIP-3009 (from, nonce), so at most one can settle.
    const digest = hashTypedData(typed(op) as never)
    expect(real.map((r) => r.signedHash)).toEqual([digest, digest])
    expect(await verifyEip3009(s.wallet, op, real[0]!.signature as Hex)).toBe(true)
    // Residual: the budget counted both (refusals are not signed by the enclave); the audit shows it, one signedHash.
    const entries = (await auditEntries(s.stack.url, s.owner, { agent: s.agentKey.agentId })).filter((e) => e.signedHash === digest)
    expect(entries.map((e) => e.event)).toEqual(['sign_allowed', 'sign_allowed'])
  }, 60_000)
})
