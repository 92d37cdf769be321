import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { hashMessage, recoverMessageAddress } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { afterEach, describe, expect, it } from 'vitest'
import {
  AgentFrozenError,
  AgentRevokedError,
  ApprovalPendingError,
  BursarRequestError,
  EnclaveUnavailableError,
  PolicyDeniedError,
  RequestOutcomeUnknownError,
} from './errors.js'
import { generateAgentKey } from './generateAgentKey.js'
import { type MockBursarHostReturnType, mockBursarHost } from './mockBursarHost.js'
import { requestSignature } from './requestSignature.js'

const WALLET_KEY = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d' as const
const wallet = privateKeyToAccount(WALLET_KEY).address
const agentKey = generateAgentKey()
const op = { op: 'signMessage', message: { text: 'hello bursar' } } as const

let host: MockBursarHostReturnType | undefined
afterEach(async () => {
  await host?.stop()
  host = undefined
})

const start = (decide?: Parameters<typeof mockBursarHost>[0]['decide']) =>
  mockBursarHost({ agentPublicKeys: [agentKey.publicKey], walletKey: WALLET_KEY, decide }).then((h) => {
    host = h
    return h
  })

describe('requestSignature', () => {
  it('posts {request: text, signature} with an Ed25519 signature over the exact text; returns the enclave signature', async () => {
    const h = await start()
    const res = await requestSignature({ host: h.url, agentKey, wallet, operation: op, context: { reason: 'test' } })
    expect(await recoverMessageAddress({ message: 'hello bursar', signature: res.signature })).toBe(wallet)
    expect(res.signedHash).toBe(hashMessage('hello bursar'))
    const seen = h.requests[0]
    expect(seen?.request).toMatchObject({ v: 1, op: 'signMessage', agentId: agentKey.agentId, wallet, context: { reason: 'test' } })
    expect(seen?.request.nonce).toMatch(/^[0-9a-f]{32}$/)
    // the text is what was signed: a one-character change breaks the signature (independent @noble verify in the host)
    const text = seen?.text ?? ''
    expect(text).toBe(JSON.stringify(JSON.parse(text)))
  })

  it('a forged agent signature is refused by the host (proves the host really verifies)', async () => {
    const h = await start()
    const other = generateAgentKey()
    const forged = { ...agentKey, privateKey: other.privateKey } // right agentId, wrong key
    await expect(requestSignature({ host: h.url, agentKey: forged, wallet, operation: op })).rejects.toMatchObject({
      code: 'agent_signature_invalid',
    })
    expect(h.requests).toHaveLength(0)
  })

  it.each([
    [403, { code: 'policy_per_tx_cap_exceeded', message: 'cap', rule: 'perTxCap', remaining: '5000' }, PolicyDeniedError],
    [403, { code: 'policy_denied', message: 'no' }, PolicyDeniedError],
    [202, { code: 'approval_pending', message: 'held', pendingId: 'pnd_1', retryAfterMs: 1000 }, ApprovalPendingError],
    [403, { code: 'agent_revoked', message: 'gone' }, AgentRevokedError],
    [403, { code: 'agent_frozen', message: 'frozen' }, AgentFrozenError],
    [503, { code: 'enclave_not_ready', message: 'booting' }, EnclaveUnavailableError],
    [502, { code: 'enclave_unavailable', message: 'down' }, EnclaveUnavailableError],
    [409, { code: 'request_replayed', message: 'seen' }, BursarRequestError],
    [500, { message: 'no code' }, BursarRequestError],
  ])('maps HTTP %i %j to a typed error', async (status, body, Type) => {
    const h = await start(() => ({ status, body }))
    // A 503 is resent until the deadline (short here); the host said it did not forward it, so: unavailable.
    const err = await requestSignature({ host: h.url, agentKey, wallet, operation: op, timeoutMs: 300 }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(Type)
    const expected = err instanceof EnclaveUnavailableError ? 'enclave_unavailable' : 'code' in body ? body.code : 'response_invalid'
    expect((err as { code: string }).code).toBe(expected)
    if (err instanceof PolicyDeniedError) {
      const b = body as { rule?: string; remaining?: string }
      expect([err.rule, err.remaining]).toEqual([b.rule, b.remaining])
    }
    if (err instanceof ApprovalPendingError) {
      expect(err.pendingId).toBe('pnd_1')
      expect(err.waitForApproval).toContain('pnd_1')
    }
  })

  it('retries request_stale once with a fresh nonce and issuedAt, then gives up', async () => {
    const h = await start((_, i) => (i === 0 ? { status: 401, body: { code: 'request_stale', message: 'old' } } : undefined))
    const res = await requestSignature({ host: h.url, agentKey, wallet, operation: op })
    expect(res.signature).toMatch(/^0x[0-9a-f]{130}$/)
    expect(h.requests).toHaveLength(2)
    expect(h.requests[0]?.request.nonce).not.toBe(h.requests[1]?.request.nonce)

    await h.stop()
    const h2 = await start(() => ({ status: 401, body: { code: 'request_not_yet_valid', message: 'future' } }))
    await expect(requestSignature({ host: h2.url, agentKey, wallet, operation: op })).rejects.toMatchObject({
      code: 'request_not_yet_valid',
    })
    expect(h2.requests).toHaveLength(2)
  })

  it('connection refused is EnclaveUnavailableError at once; a host that never answers is RequestOutcomeUnknownError at the deadline', async () => {
    const h = await start()
    const url = h.url
    await h.stop()
    await expect(requestSignature({ host: url, agentKey, wallet, operation: op })).rejects.toBeInstanceOf(EnclaveUnavailableError)

    const silent = createServer(() => {})
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r))
    const port = (silent.address() as AddressInfo).port
    try {
      const err = await requestSignature({ host: `http://127.0.0.1:${port}`, agentKey, wallet, operation: op, timeoutMs: 200 }).catch(
        (e: unknown) => e,
      )
      expect(err).toBeInstanceOf(RequestOutcomeUnknownError)
      expect((err as RequestOutcomeUnknownError).code).toBe('request_outcome_unknown')
      expect((err as RequestOutcomeUnknownError).requestId).toMatch(/^[0-9a-f]{32}$/)
    } finally {
      silent.closeAllConnections()
      silent.close()
    }
  })

  it('a host that dies holding the request on a reused keep-alive socket is not "unavailable": its answer may be stored (resent until the deadline)', async () => {
    // The cluster failover test once saw 99 of 100 signatures: the holder took a request on a pooled socket, decided
    // and stored it, then was SIGKILLed; the pool's retry on a fresh socket met a closed port (ECONNREFUSED), which
    // read as "nothing sent" (EnclaveUnavailableError), and the agent moved on without the signed payment.
    let h!: MockBursarHostReturnType
    h = await start((_r, i) => {
      if (i === 1) void h.stop() // dies after reading the second request, before answering
      return undefined
    })
    await requestSignature({ host: h.url, agentKey, wallet, operation: op }) // leaves an idle keep-alive socket
    const err = await requestSignature({ host: h.url, agentKey, wallet, operation: op, timeoutMs: 400 }).catch((e: unknown) => e)
    expect(h.requests).toHaveLength(2) // the host did get it
    expect(err).toBeInstanceOf(RequestOutcomeUnknownError)
  })

  it('a malformed 200 answer is a response_invalid error', async () => {
    const h = await start(() => ({ status: 200, body: { signature: '0x1234' } }))
    await expect(requestSignature({ host: h.url, agentKey, wallet, operation: op })).rejects.toMatchObject({ code: 'response_invalid' })
  })

  it('refuses to send a request that does not match AgentRequestSchema', async () => {
    const h = await start()
    const bad = { op: 'signMessage', message: { text: 'x'.repeat(5000) } } as const
    await expect(requestSignature({ host: h.url, agentKey, wallet, operation: bad })).rejects.toMatchObject({ code: 'request_invalid' })
    expect(h.requests).toHaveLength(0)
  })

  it('signs expiresAt = issuedAt + timeoutMs (at most 30 s) into the request', async () => {
    const h = await start()
    await requestSignature({ host: h.url, agentKey, wallet, operation: op, timeoutMs: 5_000 })
    await requestSignature({ host: h.url, agentKey, wallet, operation: op, timeoutMs: 120_000 })
    const [a, b] = h.requests.map((r) => r.request as { issuedAt: number; expiresAt: number })
    expect(a!.expiresAt - a!.issuedAt).toBe(5_000)
    expect(b!.expiresAt - b!.issuedAt).toBe(30_000)
    expect(h.requests[0]!.text.indexOf('"expiresAt"')).toBeGreaterThan(h.requests[0]!.text.indexOf('"issuedAt"'))
  })

  it('a 503 is resent as the SAME bytes (never a second request) until an answer arrives', async () => {
    const h = await start((_, i) => (i < 3 ? { status: 503, body: { code: 'enclave_timeout', message: 'slow' } } : undefined))
    const res = await requestSignature({ host: h.url, agentKey, wallet, operation: op, timeoutMs: 10_000 })
    expect(res.signature).toMatch(/^0x[0-9a-f]{130}$/)
    expect(h.requests).toHaveLength(4)
    expect(new Set(h.requests.map((r) => r.text)).size).toBe(1)
  })

  it('request_nonce_reused (the host says other bytes used this nonce) is RequestOutcomeUnknownError, on the first send too', async () => {
    const h = await start(() => ({ status: 409, body: { code: 'request_nonce_reused', message: 'other bytes' } }))
    const err = await requestSignature({ host: h.url, agentKey, wallet, operation: op, timeoutMs: 5_000 }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(RequestOutcomeUnknownError)
    expect((err as RequestOutcomeUnknownError).requestId).toBe((h.requests[0]!.request as { nonce: string }).nonce)
    expect(h.requests).toHaveLength(1)
  })

  it('a resend refused as already seen is RequestOutcomeUnknownError (not a fresh request)', async () => {
    const h = await start((_, i) =>
      i === 0 ? { status: 503, body: { code: 'enclave_timeout', message: 'slow' } } : { status: 409, body: { code: 'request_replayed', message: 'seen' } },
    )
    const err = await requestSignature({ host: h.url, agentKey, wallet, operation: op, timeoutMs: 5_000 }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(RequestOutcomeUnknownError)
    expect((err as RequestOutcomeUnknownError).requestId).toBe((h.requests[0]!.request as { nonce: string }).nonce)
    expect(new Set(h.requests.map((r) => r.text)).size).toBe(1)
  })

  it('routes per host string (parsed once): trailing slashes, two hosts in one process, a bad host as before', async () => {
    const h = await start()
    const other = await mockBursarHost({ agentPublicKeys: [agentKey.publicKey], walletKey: WALLET_KEY })
    try {
      await requestSignature({ host: `${h.url}//`, agentKey, wallet, operation: op })
      await requestSignature({ host: other.url, agentKey, wallet, operation: op })
      await requestSignature({ host: `${h.url}//`, agentKey, wallet, operation: op })
      expect(h.requests).toHaveLength(2)
      expect(other.requests).toHaveLength(1)
      // A host that is no URL: rejected before anything is sent, as when the URL was parsed per request.
      await expect(requestSignature({ host: 'not a url', agentKey, wallet, operation: op })).rejects.toMatchObject({ code: 'ERR_INVALID_URL' })
      // With a fetch given nothing is parsed here: the fetch gets the route's URL text.
      const seen: string[] = []
      const fake = (async (url: string) => {
        seen.push(url)
        throw Object.assign(new Error('refused'), { code: 'ECONNREFUSED' })
      }) as unknown as typeof fetch
      await expect(requestSignature({ host: 'not a url/', agentKey, wallet, operation: op, fetch: fake, session: false })).rejects.toBeInstanceOf(
        EnclaveUnavailableError,
      )
      expect(seen).toEqual(['not a url/v1/agent/sign'])
    } finally {
      await other.stop()
    }
  })
})
