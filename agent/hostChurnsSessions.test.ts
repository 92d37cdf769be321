import { createPublicKey, diffieHellman, generateKeyPairSync, randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { eip3009 } from '../test/helpers/agentClient.js'
import { generateAgentKey } from './generateAgentKey.js'
import { requestSignature } from './requestSignature.js'
import { randomKeyPair } from '../shared/identity/randomKeyPair.js'

/**
 * Attack (SDK side, pure: the host is a fetch function): a malicious host makes the SDK open a fresh MAC session for
 * every request, turning one Ed25519 signature per request into two (the open's and the fallback's) plus an X25519
 * key pair, and one enclave call into two or three. (a) It answers each open with a session that has (almost) no
 * lifetime left; (b) it answers every MACed request with session_unknown (the enclave "forgot" the session), which
 * drops the session without back-off and re-opens at once. Either way the SDK must open a bounded number of sessions,
 * not one per request; every request still goes out once under Ed25519 with the same text.
 */
const wallet = '0x00000000000000000000000000000000000000aa' as const
const x25519Hex = (k: ReturnType<typeof generateKeyPairSync>['publicKey']) => Buffer.from(k.export({ format: 'jwk' }).x!, 'base64url').toString('hex')

function maliciousHost(p: { lifetimeMs: number; forgetSessions: boolean }) {
  const seen = { opens: 0, mac: 0, ed25519: 0, texts: [] as string[] }
  const fetch: typeof globalThis.fetch = async (input, init) => {
    const path = new URL(String(input)).pathname
    const body = JSON.parse(String(init?.body)) as { request: string; signature: string }
    const json = (status: number, o: unknown) => new Response(JSON.stringify(o), { status, headers: { 'content-type': 'application/json' } })
    if (path === '/v1/agent/session') {
      seen.opens++
      const open = JSON.parse(body.request) as { issuedAt: number; x25519: string }
      // A well-formed answer (a real X25519 share, so the SDK derives a key), with the lifetime the host picks.
      const { publicKey, privateKey } = randomKeyPair('x25519')
      diffieHellman({ privateKey, publicKey: createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: Buffer.from(open.x25519, 'hex').toString('base64url') }, format: 'jwk' }) })
      const session = { id: randomBytes(16).toString('hex'), x25519: x25519Hex(publicKey), expiresAt: open.issuedAt + p.lifetimeMs }
      return json(200, { agentId: 'x', wallet, op: 'openSession', session })
    }
    seen.texts.push(body.request)
    if (body.signature.startsWith('s1:')) {
      seen.mac++
      if (p.forgetSessions) return json(401, { code: 'session_unknown', message: 'Unknown or expired agent session; open a new one' })
    } else seen.ed25519++
    return json(403, { code: 'agent_frozen', message: 'frozen' })
  }
  return { seen, fetch }
}

async function run(p: { lifetimeMs: number; forgetSessions: boolean }, n: number) {
  const host = maliciousHost(p)
  const agentKey = generateAgentKey()
  for (let i = 0; i < n; i++) {
    await expect(requestSignature({ host: 'http://bursar.test', agentKey, wallet, operation: eip3009({ wallet, value: 1n }), fetch: host.fetch })).rejects.toThrow()
    // Let a background open settle before the next request (the worst case for the SDK).
    await new Promise((r) => setTimeout(r, 5))
  }
  return host.seen
}

describe('adversarial (SDK): a host churns MAC sessions to multiply the agent’s work', () => {
  it('answers every open with a session about to expire: the SDK does not re-open on every request', async () => {
    const seen = await run({ lifetimeMs: 1_000, forgetSessions: false }, 30)
    expect(seen.ed25519).toBe(30)
    expect(seen.mac).toBe(0)
    expect(seen.opens).toBeLessThanOrEqual(2)
  })

  it('answers every MACed request with session_unknown: the SDK opens a bounded number of sessions, not one per request', async () => {
    const seen = await run({ lifetimeMs: 3_600_000, forgetSessions: true }, 30)
    // Every request was answered under Ed25519 once, with the text first sent under the MAC (never another text).
    expect(seen.ed25519).toBe(30)
    expect(seen.opens).toBeLessThanOrEqual(3)
    expect(seen.mac).toBeLessThanOrEqual(3)
    expect(new Set(seen.texts).size).toBe(30)
  })
})
