/**
 * UNTRUSTED: exactly-once answers to agent sign requests (issue 23). An agent
 * that timed out or lost its connection resends the SAME signed bytes; the
 * enclave's replay cache refuses a nonce it has seen, so the host answers a
 * resend itself: from its store (the answer was stored in the same
 * transaction as the decision's audit entries) or by awaiting the copy still
 * in flight. The same nonce with other bytes is refused. Nothing here decides
 * policy or can make a signature: a stored answer is only ever one the enclave
 * gave for these exact bytes, and the agent SDK checks it like any answer.
 */
import nodeCrypto, { createHash } from 'node:crypto'
import { BaseError } from '../../shared/errors/base.js'
import { errorStatus } from '../../shared/errors/errorCodes.js'
import { AGENT_CLOCK_AHEAD_MS, REQUEST_MAX_LIFETIME_MS } from '../../shared/schemas/agentRequest.js'
import type { EnclaveGateway } from '../enclave/EnclaveGateway.js'
import type { Store, StoredAgentAnswer } from '../storage/Store.js'
import { StoreDamagedError } from '../storage/storeErrors.js'

export type SignOnceAnswer = {
  status: number
  body: unknown
  /** (agent, nonce) when the answer is stored (a decided request): the route records whether it was fetched. */
  stored: { agentId: string; nonce: string } | null
}

/** `replayed`: the enclave refused these bytes as already seen, before deciding (another copy claimed the nonce). */
type Outcome = { hash: string; status: number; body: unknown; stored: boolean; replayed?: boolean }
type Id = { agentId: string; nonce: string; expiresAt: number | undefined; issuedAt: number | undefined }

const NONCE_REUSED = {
  status: errorStatus('request_nonce_reused'),
  body: { code: 'request_nonce_reused', message: 'This request nonce was already used with other bytes; resend the identical request or sign a new one' },
  stored: null,
} as const
// Extra time the host waits for the enclave beyond the request's own deadline (a decision right at the deadline).
const DEADLINE_MARGIN_MS = 5_000

export class AgentSignOnce {
  /** One entry per (agent, nonce, bytes) in flight: identical copies share it. */
  private readonly inflight = new Map<string, Promise<Outcome>>()
  /** The enclave calls in flight per (agent, nonce), whatever their bytes: a copy refused as replayed waits for them. */
  private readonly decisions = new Map<string, Set<Promise<Outcome>>>()

  /** Requests issued after this (agent clock) were never decided before this process started (see `mayBeDecided`). */
  private readonly freshAfter: number | null

  constructor(
    private readonly gateway: EnclaveGateway,
    private readonly store: Store,
    startedAt = Date.now(),
    /** rt36b: where a damaged store is reported (the host log at error level; default the gateway's log). */
    private readonly damaged: (line: string) => void = (line) => gateway.log(line),
  ) {
    // Only a single-host store: in scale-out (PostgreSQL) another host may have decided the request.
    this.freshAfter = store.kind === 'sqlite' ? startedAt + AGENT_CLOCK_AHEAD_MS : null
  }

  /**
   * Whether the store must be asked before forwarding. Skipped (a lookup per request saved) when the request was
   * issued after this host started: every earlier copy then went through this process (one host per SQLite store),
   * so it is either in flight here (the maps above) or decided, and a decided nonce is refused by the enclave's
   * replay cache (which also refuses anything issued before the enclave's own start) — and every refusal or gateway
   * error is followed by the lookup, so the resend still gets the stored first decision. An issuedAt the request
   * lies about only moves it onto the lookup-after path: a copy the enclave accepts is one it had never decided.
   */
  private mayBeDecided(id: Id): boolean {
    return this.freshAfter === null || id.issuedAt === undefined || id.issuedAt <= this.freshAfter
  }

  /** Copies in flight (tests and health). */
  get inFlight(): number {
    return this.inflight.size
  }

  async sign(body: { request: string; signature: string }): Promise<SignOnceAnswer> {
    const id = idOf(body.request)
    // Not even the ids parse: the enclave refuses it (request_invalid); nothing to remember.
    if (!id) return this.forwardPlain(body)
    const hash = requestHash(body)
    const key = `${id.agentId}:${id.nonce}`
    // SECURITY: copies with other bytes never wait behind each other (forged copies under a victim's nonce, each
    // refused by the enclave before it claims the nonce, cannot keep the genuine copy from the enclave); the
    // enclave's replay cache decides which bytes get the nonce, the store says what the others get.
    const slot = `${key}:${hash}`
    let p = this.inflight.get(slot)
    if (!p) {
      const decision = this.resolve(id, body, hash)
      let pending = this.decisions.get(key)
      if (!pending) this.decisions.set(key, (pending = new Set()))
      pending.add(decision)
      void decision.then(() => {
        const s = this.decisions.get(key)
        s?.delete(decision)
        if (s?.size === 0) this.decisions.delete(key)
      })
      const mine = decision.then(async (out) => (out.replayed ? this.afterReplayed(id, key, decision, out) : out))
      p = mine
      this.inflight.set(slot, mine)
      void mine.then(() => {
        if (this.inflight.get(slot) === mine) this.inflight.delete(slot)
      })
    }
    const out = await p
    if (out.hash === hash) return { status: out.status, body: out.body, stored: out.stored ? { agentId: id.agentId, nonce: id.nonce } : null }
    return NONCE_REUSED
  }

  /**
   * These bytes were refused as replayed before the writer: another copy of the nonce claimed it (other bytes in
   * flight now, or already decided). Waits for the other enclave calls of this nonce (never for a copy that is
   * itself waiting: no cycles), then answers from the store: the decided answer (request_nonce_reused for other
   * bytes), else the enclave's own refusal.
   */
  private async afterReplayed(id: Id, key: string, self: Promise<Outcome>, out: Outcome): Promise<Outcome> {
    try {
      await Promise.all([...(this.decisions.get(key) ?? [])].filter((d) => d !== self))
      const prior = await this.store.agentAnswer(id.agentId, id.nonce)
      return prior ? fromStored(prior) : out
    } catch (err) {
      // rt36b: a stored answer the store cannot rebuild is said as such (request_replayed reads "sign a fresh one").
      return err instanceof StoreDamagedError ? { ...out, ...this.failure(err) } : out
    }
  }

  /** The stored answer for this (agent, nonce), else the enclave's (stored with the decision). Never rejects. */
  private async resolve(id: Id, body: { request: string; signature: string }, hash: string): Promise<Outcome> {
    const lookFirst = this.mayBeDecided(id)
    try {
      if (lookFirst) {
        const prior = await this.store.agentAnswer(id.agentId, id.nonce)
        if (prior) return fromStored(prior)
      }
      // Wait for the enclave as long as the request can still be decided (a stalled writer must not turn a decided
      // request into an unstored answer).
      const defaultMs = this.gateway.client.timeoutMs
      const untilDeadline = id.expiresAt !== undefined ? id.expiresAt - Date.now() + DEADLINE_MARGIN_MS : 0
      const timeoutMs = Math.min(Math.max(defaultMs, untilDeadline), REQUEST_MAX_LIFETIME_MS + 2 * DEADLINE_MARGIN_MS)
      const res = await this.gateway.call({ type: 'agentSign', ...body }, timeoutMs, { agentId: id.agentId, nonce: id.nonce, requestHash: hash })
      const stored = res.persist !== undefined
      if (res.ok) return { hash, status: 200, body: res.result, stored }
      const replayed = !stored && res.error.code === 'request_replayed'
      const out = { hash, status: errorStatus(res.error.code), body: res.error, stored, replayed }
      // Lookup skipped: an undecided refusal may be a resend's (decided earlier); `replayed` is looked up after the waits.
      if (!lookFirst && !stored && !replayed) return (await this.storedOr(id)) ?? out
      return out
    } catch (err) {
      const out = { hash, ...this.failure(err), stored: false }
      return (!lookFirst && (await this.storedOr(id).catch((e: unknown) => (e instanceof StoreDamagedError ? { ...out, ...this.failure(e) } : null)))) || out
    }
  }

  /** failure(), and a damaged store (a row a stored answer names was deleted) told to the operator in the host log. */
  private failure(err: unknown): { status: number; body: unknown } {
    if (err instanceof StoreDamagedError) this.damaged(`store damaged: ${err.message}: restore the store from a backup (answered store_damaged)`)
    return failure(err)
  }

  /** The stored answer for (agent, nonce) as an outcome, or null. */
  private async storedOr(id: Id): Promise<Outcome | null> {
    const prior = await this.store.agentAnswer(id.agentId, id.nonce)
    return prior ? fromStored(prior) : null
  }

  private async forwardPlain(body: { request: string; signature: string }): Promise<SignOnceAnswer> {
    try {
      const res = await this.gateway.call({ type: 'agentSign', ...body })
      return res.ok ? { status: 200, body: res.result, stored: null } : { status: errorStatus(res.error.code), body: res.error, stored: null }
    } catch (err) {
      return { ...failure(err), stored: null }
    }
  }
}

/**
 * What makes two copies the same request: the exact request text and its signature's bytes. SECURITY: the enclave
 * decodes the signature's hex in either case, so the hash does too (lower case); otherwise a copy with upper-cased
 * hex — the same signed request — would read as other bytes and its answer would go to whoever sent it first.
 */
export function requestHash(body: { request: string; signature: string }): string {
  // Issue 18 (cpu36): one-shot `crypto.hash` where Node has it (20.12+; the same digest of the same UTF-8 bytes).
  if (ONE_SHOT) return nodeCrypto.hash('sha256', `${body.request}\n${body.signature.toLowerCase()}`, 'hex')
  return createHash('sha256').update(body.request).update('\n').update(body.signature.toLowerCase()).digest('hex')
}
const ONE_SHOT = typeof (nodeCrypto as { hash?: unknown }).hash === 'function'

function fromStored(prior: StoredAgentAnswer): Outcome {
  return { hash: prior.requestHash, status: prior.status, body: JSON.parse(prior.body) as unknown, stored: true }
}

function failure(err: unknown): { status: number; body: unknown } {
  if (err instanceof BaseError) return { status: errorStatus(err.code), body: err.toWire() }
  if (err instanceof StoreDamagedError) return { status: errorStatus('store_damaged'), body: new BaseError('store_damaged', 'This request was decided and stored, but the host cannot rebuild its answer (its store is damaged): do not sign a fresh request for it').toWire() }
  // SECURITY: no 5xx detail leaves the host.
  return { status: 500, body: { code: 'internal_error', message: 'Internal error' } }
}

/** (agentId, nonce, expiresAt) from the request text, untrusted (the enclave authenticates it); null if absent. */
function idOf(text: string): Id | null {
  let j: unknown
  try {
    j = JSON.parse(text)
  } catch {
    return null
  }
  if (j === null || typeof j !== 'object') return null
  const { agentId, nonce, expiresAt, issuedAt } = j as Record<string, unknown>
  if (typeof agentId !== 'string' || typeof nonce !== 'string' || agentId.length > 64 || nonce.length > 64) return null
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined)
  return { agentId, nonce, expiresAt: num(expiresAt), issuedAt: num(issuedAt) }
}
