import { type KeyObject, createHmac, diffieHellman, randomBytes, sign } from 'node:crypto'
import { agentSessionKey, x25519FromHex, x25519Hex } from '../shared/protocol/agentSessionKey.js'
import type { AgentKey } from './loadAgentKey.js'
import { randomKeyPair } from '../shared/identity/randomKeyPair.js'

/**
 * The agent's side of a MAC session (docs/agent-sdk.md "Sessions"): one Ed25519-signed openSession per
 * (agent key, host, wallet) agrees a key K with the enclave over X25519; later requests carry
 * `s1:<id>:<HMAC-SHA256(K, exact request bytes)>` instead of an Ed25519 signature. The host sees both X25519
 * public keys, never K. A host that swaps the enclave's key in the answer only makes every MAC fail
 * (`session_invalid`): denial, which it can do anyway.
 */
export type AgentSession = { id: string; key: Buffer; until: number }
type Post = (body: string, timeoutMs: number) => Promise<{ status: number; text: string }>

/** How long a failed open makes the SDK sign with Ed25519 before it tries again (old host, session_limit…). */
const RETRY_OPEN_MS = 60_000
/** A session is not used for a request that could outlive it (local clock; session_unknown covers skew). */
const MARGIN_MS = 60_000
/** At most one open per slot this often, whatever the host says (hostChurnsSessions: no open per request). */
const REOPEN_MIN_MS = 2_000
type Entry = { p: Promise<AgentSession | null>; until: number; at: number; s?: AgentSession | null | undefined }
const CACHE = new WeakMap<AgentKey, Map<string, Entry>>()

/**
 * The ready session for (agent key, host, wallet), or null (sign this request with Ed25519): a missing or expired
 * session is opened in the background, so no request ever waits for an open (nor a stalled enclave twice).
 */
export function sessionFor(agentKey: AgentKey, slot: string, wallet: string, edKey: KeyObject, post: Post): AgentSession | null {
  let m = CACHE.get(agentKey)
  if (!m) CACHE.set(agentKey, (m = new Map()))
  const hit = m.get(slot)
  if (hit && hit.until > Date.now()) return hit.s ?? null
  const entry: Entry = { p: openSession(agentKey, wallet, edKey, post), until: Date.now() + RETRY_OPEN_MS, at: Date.now() }
  m.set(slot, entry)
  void entry.p.then((s) => {
    entry.s = s
    entry.until = s ? s.until : Date.now() + RETRY_OPEN_MS
  })
  return null
}

/**
 * Forgets a session the enclave no longer knows (restart, expiry: a later request opens another, at most one open per
 * slot per REOPEN_MIN_MS) or refused (`backOff`, session_invalid: Ed25519 only for RETRY_OPEN_MS, so a host swapping
 * key shares costs one open a minute).
 */
export function dropSession(agentKey: AgentKey, slot: string, session: AgentSession, backOff: boolean): void {
  const m = CACHE.get(agentKey)
  // Only the session that failed: a newer one another request already opened stays.
  const hit = m?.get(slot)
  if (!hit || hit.s !== session) return
  m!.set(slot, { p: Promise.resolve(null), s: null, at: hit.at, until: backOff ? Date.now() + RETRY_OPEN_MS : hit.at + REOPEN_MIN_MS })
}

/** The request's authenticator inside a session. */
export function sessionMac(s: AgentSession, text: string): string {
  return `s1:${s.id}:${createHmac('sha256', s.key).update(text, 'utf8').digest('hex')}`
}

/** One open as the SDK makes it (exported for `make bench`'s load generator, which opens one per bench agent). */
export async function openSession(agentKey: AgentKey, wallet: string, edKey: KeyObject, post: Post): Promise<AgentSession | null> {
  try {
    const { publicKey, privateKey } = randomKeyPair('x25519')
    const ours = x25519Hex(publicKey)
    const request = { v: 1, agentId: agentKey.agentId, wallet, nonce: randomBytes(16).toString('hex'), issuedAt: Date.now(), op: 'openSession', x25519: ours }
    const text = JSON.stringify(request)
    const signature = sign(null, Buffer.from(text, 'utf8'), edKey).toString('hex')
    const res = await post(`{"request":${JSON.stringify(text)},"signature":"${signature}"}`, 10_000)
    if (res.status !== 200) return null
    const s = (JSON.parse(res.text) as { session?: { id?: unknown; x25519?: unknown; expiresAt?: unknown } }).session
    if (!s || typeof s.id !== 'string' || !/^[0-9a-f]{32}$/.test(s.id) || typeof s.x25519 !== 'string' || !/^[0-9a-f]{64}$/.test(s.x25519)) return null
    const peer = x25519FromHex(s.x25519)
    const shared = diffieHellman({ privateKey, publicKey: peer })
    if (shared.every((b) => b === 0)) return null
    const key = agentSessionKey(shared, text, s.x25519)
    const lifetime = typeof s.expiresAt === 'number' ? Math.min(s.expiresAt - request.issuedAt, 3_600_000) : 0
    // A session with (almost) no life left is a failed open (Ed25519 for RETRY_OPEN_MS), not a reason to re-open now.
    if (lifetime < 2 * MARGIN_MS) return null
    return { id: s.id, key, until: request.issuedAt + lifetime - MARGIN_MS }
  } catch {
    return null
  }
}
