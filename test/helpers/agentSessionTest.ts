/**
 * Test-side agent sessions (docs/agent-sdk.md "Sessions"), written independently of agent/agentSession.ts and
 * enclave/agent/agentSessions.ts: opens a session on a (malicious-host) enclave connection with an Ed25519-signed
 * openSession, derives K = HKDF-SHA256(X25519, SHA-256(open text), label ‖ enclave key) and MACs request texts.
 */
import { createHash, createHmac, createPublicKey, diffieHellman, generateKeyPairSync, hkdfSync, randomBytes } from 'node:crypto'
import type { Hex } from 'viem'
import type { ResponseFrame } from '../../shared/protocol/messages.js'
import { type MaliciousHost, type TestAgent, resign } from './maliciousHost.js'
import { randomKeyPair } from '../../shared/identity/randomKeyPair.js'

export type TestSession = { id: string; key: Buffer; enclavePub: string; open: { request: string; signature: string }; res: ResponseFrame }

export function openText(agent: TestAgent, wallet: Hex, x25519: string, issuedAt = Date.now()): string {
  return JSON.stringify({ v: 1, agentId: agent.agentId, wallet, nonce: randomBytes(16).toString('hex'), issuedAt, op: 'openSession', x25519 })
}

export function deriveKey(privateKey: ReturnType<typeof generateKeyPairSync>['privateKey'], enclavePub: string, text: string): Buffer {
  const peer = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: Buffer.from(enclavePub, 'hex').toString('base64url') }, format: 'jwk' })
  const shared = diffieHellman({ privateKey, publicKey: peer })
  return Buffer.from(hkdfSync('sha256', shared, createHash('sha256').update(text).digest(), `bursar agent session v1 ${enclavePub}`, 32))
}

/** Opens a session as `agent` (signed with `agent`'s key). Throws if the enclave refuses. */
export async function openTestSession(host: MaliciousHost, agent: TestAgent, wallet: Hex): Promise<TestSession> {
  const { publicKey, privateKey } = randomKeyPair('x25519')
  const ours = Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url').toString('hex')
  const request = openText(agent, wallet, ours)
  const open = { request, signature: resign(request, agent.privateKey) }
  const res = await host.call({ type: 'agentStatus', ...open })
  if (!res.ok) throw new Error(`openSession refused: ${res.error.code}`)
  const s = (res.result as { session: { id: string; x25519: string } }).session
  return { id: s.id, key: deriveKey(privateKey, s.x25519, request), enclavePub: s.x25519, open, res }
}

/** `s1:<id>:<HMAC-SHA256(key, text)>`. */
export function macOf(session: { id: string; key: Buffer }, text: string): string {
  return `s1:${session.id}:${createHmac('sha256', session.key).update(text, 'utf8').digest('hex')}`
}
