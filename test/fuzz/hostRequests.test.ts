import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Stack, startStack } from '../helpers/startStack.js'

/**
 * Malformed HTTP input against the real host (and through it the enclave):
 * every answer is a typed JSON error below 500, and both processes stay up.
 */
describe('host HTTP robustness against malformed requests', () => {
  let stack: Stack
  beforeAll(async () => {
    stack = await startStack()
  })
  afterAll(async () => {
    await stack?.stop()
  })

  const json = fc.jsonValue({ maxDepth: 3 })
  const hex = fc.stringMatching(/^[0-9a-f]{0,140}$/)
  const bodies = {
    '/v1/agent/sign': fc.oneof(
      json,
      fc.record({ request: fc.oneof(fc.string(), fc.json()), signature: fc.oneof(hex, fc.string()) }),
      fc.record({ request: fc.json(), signature: fc.stringMatching(/^[0-9a-f]{128}$/) }),
    ),
    '/v1/owner/acts': fc.oneof(
      json,
      fc.record({
        primaryType: fc.constantFrom('CreateWallet', 'SetPolicy', 'RevokeAgent', 'Nope', ''),
        message: fc.oneof(fc.json(), fc.string()),
        signature: fc.oneof(hex.map((h) => `0x${h}`), fc.string()),
        policy: fc.option(fc.json(), { nil: undefined }),
      }),
    ),
  } as const

  it('random bodies to the POST routes get typed 4xx errors (never 5xx), the stack stays up', async () => {
    let n = 0
    for (const [route, arb] of Object.entries(bodies)) {
      await fc.assert(
        fc.asyncProperty(arb, fc.boolean(), async (body, raw) => {
          n++
          const res = await fetch(`${stack.url}${route}`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            // Half the time: not even JSON.
            body: raw ? `${JSON.stringify(body)}}{` : JSON.stringify(body),
          })
          expect(res.status).toBeGreaterThanOrEqual(400)
          expect(res.status).toBeLessThan(500)
          const err = (await res.json()) as { code?: unknown; message?: unknown }
          expect(typeof err.code).toBe('string')
          expect(typeof err.message).toBe('string')
        }),
        { numRuns: 250 },
      )
    }
    expect(n).toBeGreaterThanOrEqual(500)
  })

  it('random query strings to the GET routes never produce a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('/v1/attestation', '/v1/audit/entries', '/v1/audit/export', '/v1/wallets/', '/v1/audit/head'),
        fc.string({ maxLength: 60 }),
        async (route, q) => {
          const res = await fetch(`${stack.url}${route}${route.endsWith('/') ? encodeURIComponent(q) : `?${q}`}`, {
            headers: { authorization: `Bearer ${stack.auditToken}` },
          })
          expect(res.status).toBeLessThan(500)
        },
      ),
      { numRuns: 300 },
    )
  })

  it('oversized and wrong-type bodies are refused cleanly; the host and enclave still answer', async () => {
    // The host answers 413 before reading the whole body and may close while we still write (EPIPE): both refuse it.
    const big = await fetch(`${stack.url}/v1/agent/sign`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ request: 'x'.repeat(2 * 1024 * 1024), signature: '00'.repeat(64) }),
    }).then(
      (r) => r.status,
      (e: { cause?: { code?: string } }) => e.cause?.code,
    )
    expect([413, 'EPIPE', 'ECONNRESET']).toContain(big)
    const wrongType = await fetch(`${stack.url}/v1/owner/acts`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hello' })
    expect(wrongType.status).toBeGreaterThanOrEqual(400)
    expect(wrongType.status).toBeLessThan(500)
    const ready = await fetch(`${stack.url}/readyz`)
    expect(ready.status).toBe(200)
    expect(stack.enclave.exitCode).toBeNull()
    expect(stack.host.exitCode).toBeNull()
  })
})
