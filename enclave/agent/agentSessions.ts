/**
 * TRUST: per-session MAC keys for agent requests (docs/agent-sdk.md "Sessions"). A session is opened by an
 * Ed25519-signed openSession carrying the agent's ephemeral X25519 key; K = HKDF-SHA256(X25519(ours, theirs),
 * salt = SHA-256(the exact signed open text), info = label ‖ our public key). K never leaves this process; the
 * host sees both public keys only. Sessions live in memory: bounded per agent and in total, lost on restart.
 */
import { createHmac, diffieHellman, randomBytes, timingSafeEqual } from 'node:crypto'
import { agentSessionKey, x25519FromHex, x25519Hex } from '../../shared/protocol/agentSessionKey.js'
import { EnclaveError } from '../../shared/errors/EnclaveError.js'
import type { AgentRecord } from '../../core/state/stateTypes.js'
import { randomKeyPair } from '../../shared/identity/randomKeyPair.js'

export const SESSION_TTL_MS = 3_600_000
export const SESSIONS_PER_AGENT = 8
export const SESSIONS_MAX = 4_096
type Session = { key: Buffer; wallet: string; agentId: string; agentKey: Uint8Array; expiresAt: number }
type Store = { byId: Map<string, Session>; byAgent: Map<string, string[]> }
const STORES = new WeakMap<object, Store>()
const storeOf = (e: object): Store => STORES.get(e) ?? (STORES.set(e, { byId: new Map(), byAgent: new Map() }), STORES.get(e)!)

/** Opens a session for an authenticated, fresh openSession; evicts only this agent's own oldest session. */
export function openSession(enclave: object, agent: Readonly<AgentRecord>, wallet: string, openText: string, theirs: string, now: number) {
  if (agent.status === 'revoked') throw new EnclaveError('agent_revoked', 'Agent was revoked by its owner')
  const { publicKey, privateKey } = randomKeyPair('x25519')
  const peer = x25519FromHex(theirs)
  // SECURITY: a low-order agent key gives an all-zero secret anyone could compute (OpenSSL refuses to derive it):
  // a typed refusal, before any of the agent's sessions is evicted for it (agentOpensSessionWithLowOrderKey).
  const shared = ((): Buffer => { try { return diffieHellman({ privateKey, publicKey: peer }) } catch { return Buffer.alloc(32) } })()
  if (shared.every((b) => b === 0)) throw new EnclaveError('request_invalid', 'openSession: degenerate X25519 key')
  const { byId, byAgent } = storeOf(enclave)
  const slot = `${wallet}:${agent.agentId}`
  const mine = (byAgent.get(slot) ?? []).filter((id) => (byId.get(id)?.expiresAt ?? 0) > now)
  while (mine.length >= SESSIONS_PER_AGENT) byId.delete(mine.shift()!)
  if (byId.size >= SESSIONS_MAX) for (const [id, s] of byId) if (s.expiresAt <= now) byId.delete(id)
  if (byId.size >= SESSIONS_MAX) throw new EnclaveError('session_limit', 'The enclave holds its maximum number of agent sessions')
  const ours = x25519Hex(publicKey)
  const key = agentSessionKey(shared, openText, ours)
  const id = randomBytes(16).toString('hex')
  const expiresAt = now + SESSION_TTL_MS
  byId.set(id, { key, wallet, agentId: agent.agentId, agentKey: agent.publicKey, expiresAt })
  mine.push(id)
  byAgent.set(slot, mine)
  return { id, x25519: ours, expiresAt }
}

/** Checks `s1:<id>:<mac>` over the exact bytes before anything in them is read; the caller checks who the text names. */
export function checkSessionMac(enclave: object, auth: string, text: string, now: number): Session {
  const { byId } = storeOf(enclave)
  const id = auth.slice(3, 35)
  const s = byId.get(id)
  if (!s || s.expiresAt <= now) {
    byId.delete(id)
    throw new EnclaveError('session_unknown', 'Unknown or expired agent session; open a new one')
  }
  const mac = createHmac('sha256', s.key).update(text, 'utf8').digest()
  if (!timingSafeEqual(mac, Buffer.from(auth.slice(36), 'hex'))) throw new EnclaveError('session_invalid', 'Session MAC does not verify')
  return s
}

/** SECURITY: a session dies with its agent: removed, revoked or re-keyed since it was opened. */
export function sessionHolds(enclave: object, auth: string, s: Session, agent: Readonly<AgentRecord> | undefined): boolean {
  if (agent && agent.status !== 'revoked' && Buffer.compare(agent.publicKey, s.agentKey) === 0) return true
  storeOf(enclave).byId.delete(auth.slice(3, 35))
  return false
}
