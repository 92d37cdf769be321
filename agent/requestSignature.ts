import { type KeyObject, randomFillSync, sign } from 'node:crypto'
import type { Hex } from 'viem'
import { PROTOCOL_ERROR_CODES as C } from '../shared/protocol/errorCodes.js'
import { AgentRequestSchema, REQUEST_MAX_LIFETIME_MS } from '../shared/schemas/agentRequest.js'
import type { AgentRequest } from '../shared/schemas/agentRequest.js'
import { type AgentSession, dropSession, sessionFor, sessionMac } from './agentSession.js'
import { ed25519PrivateKeyFromSeed } from './ed25519PrivateKeyFromSeed.js'
import { AGENT_ERROR_CODES, BursarRequestError, EnclaveUnavailableError, RequestOutcomeUnknownError } from './errors.js'
import type { AgentKey } from './loadAgentKey.js'
import { postJson } from './postJson.js'
import { boundedText } from './postSignedRequest.js'
import { toAgentError } from './toAgentError.js'

type Base = 'v' | 'agentId' | 'wallet' | 'nonce' | 'issuedAt' | 'expiresAt' | 'context' | 'permitId'
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never
/** The operation-specific part of an agent request (op + typedData | transaction | message). */
export type AgentOperation = DistributiveOmit<AgentRequest, Base>
export type AgentRequestContext = NonNullable<AgentRequest['context']>

export type RequestSignatureParameters = {
  /** Base URL of the bursar host, e.g. http://127.0.0.1:8787 */
  host: string
  agentKey: AgentKey
  wallet: Hex
  operation: AgentOperation
  context?: AgentRequestContext | undefined
  /** Use an owner-issued single-use spend permit for this signature. */
  permitId?: string | undefined
  fetch?: typeof globalThis.fetch | undefined
  /**
   * The request's lifetime and deadline (expiresAt = issuedAt + timeoutMs), resends included; default and
   * maximum 30 000 ms (the enclave's replay window).
   */
  timeoutMs?: number | undefined
  /**
   * Check the request against AgentRequestSchema before sending (default true), so a bad one fails here with
   * `request_invalid` instead of at the enclave, which parses every request with the same schema anyway.
   */
  precheck?: boolean | undefined
  /**
   * Authenticate with a per-session MAC (default true): one Ed25519-signed openSession per (agent key, host,
   * wallet), then HMAC-SHA256 per request (docs/agent-sdk.md "Sessions"). Falls back to Ed25519 per request
   * when the host or enclave offers no session.
   */
  session?: boolean | undefined
}

const PRECHECK_SKIPPED = { success: true } as const
const SIGNATURE = /^0x[0-9a-fA-F]{130}$/
const HASH = /^0x[0-9a-fA-F]{64}$/
const HEX = /^0x[0-9a-fA-F]+$/
// The Ed25519 key object per agent key (building it from the seed costs more than signing with it).
const KEYS = new WeakMap<AgentKey, { seed: string; key: KeyObject }>()

// Request nonces come from a pooled CSPRNG buffer (one randomFillSync per 256 nonces); bytes are never reused.
const NONCE_POOL = Buffer.alloc(16 * 256)
let noncePos = NONCE_POOL.length

function freshNonce(): string {
  if (noncePos >= NONCE_POOL.length) {
    randomFillSync(NONCE_POOL)
    noncePos = 0
  }
  noncePos += 16
  return NONCE_POOL.toString('hex', noncePos - 16, noncePos)
}

function keyOf(agentKey: AgentKey): KeyObject {
  const hit = KEYS.get(agentKey)
  if (hit && hit.seed === agentKey.privateKey) return hit.key
  const key = ed25519PrivateKeyFromSeed(agentKey.privateKey)
  KEYS.set(agentKey, { seed: agentKey.privateKey, key })
  return key
}

type Routes = { url: string; target: URL | undefined; sessionUrl: string; sessionTarget: URL | undefined }
// The sign and session URLs per host string, parsed once (two URL parses per request otherwise). URL objects are
// only read (postHttp1 takes hostname, port, path), never changed. Bounded: a process talks to a few hosts.
const ROUTES = new Map<string, Routes>()

function routesOf(host: string): Routes {
  let r = ROUTES.get(host)
  if (!r) {
    const base = host.replace(/\/+$/, '')
    const url = `${base}/v1/agent/sign`
    const sessionUrl = `${base}/v1/agent/session`
    r = { url, target: urlOrUndefined(url), sessionUrl, sessionTarget: urlOrUndefined(sessionUrl) }
    if (ROUTES.size >= 64) ROUTES.clear()
    ROUTES.set(host, r)
  }
  return r
}

function urlOrUndefined(url: string): URL | undefined {
  try {
    return new URL(url)
  } catch {
    return undefined // parsed again where needed, so it throws there as before (with a fetch given: never parsed)
  }
}

export type SignResponse = {
  signature: Hex
  signedHash: Hex
  serializedTransaction?: Hex | undefined
  receipt: unknown
  /** The receipt's own audit entry as the host serves it (checked against the receipt by bursarAccount). */
  auditEntry?: unknown
  /** This request's id (its nonce): the audit entry's requestId. */
  requestId: string
  /** What bursarAccount's receipt check established (absent with `receipts: 'off'`). */
  receiptCheck?: { seq: number; walletSeq: number | undefined; entryHash: string; signed: boolean } | undefined
}

/**
 * Sends one agent request to `${host}/v1/agent/sign`: the request object is
 * serialized ONCE, its UTF-8 bytes are authenticated — HMAC-SHA256 under the
 * (agent key, host, wallet)'s session key once one is open (agentSession.ts),
 * else the agent's Ed25519 signature (key object built once per agent key) —
 * and `{ request: text, signature }`
 * is posted over a process-wide keep-alive pool (or `params.fetch` if
 * given). The request carries its deadline (`expiresAt` = issuedAt + the
 * timeout, at most 30 s), covered by the signature: the enclave signs
 * nothing for it afterwards.
 *
 * Exactly once: on a timeout, a dropped connection or a 503 the SAME signed
 * bytes are resent with bounded backoff until the deadline (the host answers a
 * resend with the answer the first copy got); then a typed
 * RequestOutcomeUnknownError carries the request id. Never a silent second
 * request: a fresh nonce is used only after a refusal that proves nothing was
 * decided (`request_stale` / `request_not_yet_valid` on the first send, once;
 * `request_before_enclave_start`, twice). Every other refusal becomes a typed
 * error. The answer's shape is checked here; whether its signature is the
 * wallet's is the caller's check (bursarAccount does it).
 */
export async function requestSignature(params: RequestSignatureParameters): Promise<SignResponse> {
  const key = keyOf(params.agentKey)
  const routes = routesOf(params.host)
  const { url, sessionUrl } = routes
  const target = params.fetch ? undefined : (routes.target ?? new URL(url))
  const lifetimeMs = Math.min(Math.max(Math.floor(params.timeoutMs ?? REQUEST_MAX_LIFETIME_MS), 1), REQUEST_MAX_LIFETIME_MS)
  const post = (body: string, timeoutMs: number) =>
    target ? postJson({ url: target, body, timeoutMs }) : viaFetch(params.fetch!, url, body, timeoutMs)
  const sessionTarget = target ? (routes.sessionTarget ?? new URL(sessionUrl)) : undefined
  const postOpen = (body: string, timeoutMs: number) =>
    sessionTarget ? postJson({ url: sessionTarget, body, timeoutMs }) : viaFetch(params.fetch!, sessionUrl, body, timeoutMs)
  const slot = `${url}|${params.wallet.toLowerCase()}`
  const sessionNow = () => (params.session === false ? null : sessionFor(params.agentKey, slot, params.wallet, key, postOpen))
  const authenticate = (text: string, s: AgentSession | null) => (s ? sessionMac(s, text) : sign(null, Buffer.from(text, 'utf8'), key).toString('hex'))

  for (let attempt = 0; ; attempt++) {
    const issuedAt = Date.now()
    const request = {
      v: 1,
      agentId: params.agentKey.agentId,
      wallet: params.wallet,
      nonce: freshNonce(),
      issuedAt,
      expiresAt: issuedAt + lifetimeMs,
      ...params.operation,
      ...(params.context ? { context: params.context } : {}),
      ...(params.permitId ? { permitId: params.permitId } : {}),
    }
    const checked = params.precheck === false ? PRECHECK_SKIPPED : AgentRequestSchema.safeParse(request)
    if (!checked.success)
      throw new BursarRequestError(AGENT_ERROR_CODES.request_invalid, 'agent request does not match AgentRequestSchema', {
        cause: checked.error,
      })
    // SECURITY: the signature covers exactly these bytes; the host forwards the text unchanged.
    const text = JSON.stringify(request)
    const envelope = (auth: string) => `{"request":${JSON.stringify(text)},"signature":"${auth}"}`
    const session = sessionNow()
    let { res, resent } = await sendUntilDeadline(post, envelope(authenticate(text, session)), request.nonce, request.expiresAt, url)
    const sessionCode = session && res.status === 401 ? codeOf(res.text) : undefined
    if (sessionCode === C.session_unknown || sessionCode === C.session_invalid) {
      // The enclave refused the MAC before reading anything (it lost the session, or the host swapped the key share
      // in the open answer): the SAME text once more under the agent's Ed25519 key. A copy that was decided earlier
      // is answered from the host's store or refused as a reused nonce (RequestOutcomeUnknownError below).
      dropSession(params.agentKey, slot, session!, sessionCode === C.session_invalid)
      sessionNow() // session_unknown: a new session opens in the background for the next requests
      const again = await sendUntilDeadline(post, envelope(authenticate(text, null)), request.nonce, request.expiresAt, url)
      res = again.res
      resent ||= again.resent
    }
    const ok = res.status >= 200 && res.status < 300
    let body: unknown
    try {
      body = JSON.parse(res.text)
    } catch (cause) {
      throw new BursarRequestError(AGENT_ERROR_CODES.response_invalid, `bursar host sent non-JSON (HTTP ${res.status})`, {
        status: res.status,
        cause,
      })
    }
    const code = (body as { code?: unknown } | null)?.code
    // A refusal may come with a 2xx status (e.g. 202 approval_pending): a code without a signature is never success.
    if (!ok || (typeof code === 'string' && (body as { signature?: unknown }).signature === undefined)) {
      if (code === C.request_nonce_reused) {
        // SECURITY: this SDK signs one text per nonce, so "other bytes used this nonce" means the host's view of this
        // request is not ours (a host bug or a lie): whether it was signed is unknown. A plain refusal here would
        // invite a fresh request, i.e. a second authorization for the same purchase.
        throw new RequestOutcomeUnknownError('the host says this request nonce was used with other bytes; this request may have been signed', {
          requestId: request.nonce,
          expiresAt: request.expiresAt,
          attempts: resent ? 2 : 1,
          cause: toAgentError({ status: res.status, body }),
        })
      }
      if (resent && typeof code === 'string' && UNDECIDED.has(code)) {
        // A resend refused before the writer (e.g. the enclave restarted and remembers the nonce, the host lost the
        // answer): an earlier copy may have been decided. Never sign afresh here.
        throw new RequestOutcomeUnknownError('the request was resent and refused as already seen; its first copy may have been signed', {
          requestId: request.nonce,
          expiresAt: request.expiresAt,
          attempts: 2,
          cause: toAgentError({ status: res.status, body }),
        })
      }
      if (!resent && attempt === 0 && (code === C.request_stale || code === C.request_not_yet_valid)) continue
      if (!resent && attempt < 2 && code === 'request_before_enclave_start') {
        // The enclave restarted moments ago and refuses anything older: wait out its floor, sign afresh.
        const wait = Number((body as { retryAfterMs?: unknown }).retryAfterMs ?? 1_000)
        await new Promise((r) => setTimeout(r, Math.min(Math.max(wait, 1), 5_000)))
        continue
      }
      throw toAgentError({ status: res.status, body })
    }
    const b = (body !== null && typeof body === 'object' ? body : {}) as Record<string, unknown>
    if (
      typeof b.signature !== 'string' ||
      !SIGNATURE.test(b.signature) ||
      typeof b.signedHash !== 'string' ||
      !HASH.test(b.signedHash) ||
      (b.serializedTransaction !== undefined && (typeof b.serializedTransaction !== 'string' || !HEX.test(b.serializedTransaction)))
    )
      throw new BursarRequestError(AGENT_ERROR_CODES.response_invalid, 'bursar host sent a malformed signature response', {
        status: res.status,
      })
    b.requestId = request.nonce
    return b as SignResponse
  }
}

function codeOf(text: string): unknown {
  try {
    return (JSON.parse(text) as { code?: unknown } | null)?.code
  } catch {
    return undefined
  }
}

/** Refusals made before the enclave's writer: they say nothing about whether an earlier copy was decided. */
const UNDECIDED = new Set<string>([C.request_replayed, C.request_stale, C.request_not_yet_valid, C.request_before_enclave_start])
/** 503 codes by which the host says it did not forward the request (nothing can have been decided by this copy). */
const NOT_FORWARDED = new Set<string>([C.enclave_not_ready, C.enclave_busy])
const BACKOFF_MIN_MS = 50
const BACKOFF_MAX_MS = 2_000
/** No copy is started with less time left than this: it could not be answered, only turn "unavailable" into "unknown". */
const MIN_ATTEMPT_MS = 100

type Post = (body: string, timeoutMs: number) => Promise<{ status: number; text: string }>

/**
 * Posts the same signed bytes until an answer other than 503 arrives or the deadline passes (bounded exponential
 * backoff with jitter). After the deadline: RequestOutcomeUnknownError if any copy may have reached the enclave,
 * EnclaveUnavailableError if none can have (connection refused, host not ready).
 */
async function sendUntilDeadline(post: Post, envelope: string, requestId: string, expiresAt: number, url: string) {
  let maybeSent = false
  let lastCause: unknown
  let backoff = BACKOFF_MIN_MS
  for (let attempt = 0; ; attempt++) {
    const left = expiresAt - Date.now()
    if (left < MIN_ATTEMPT_MS && attempt > 0) {
      if (!maybeSent) throw new EnclaveUnavailableError('bursar host unreachable or not ready', { cause: lastCause, details: url })
      throw new RequestOutcomeUnknownError(`no answer before the request's deadline after ${attempt} attempt(s); it may have been signed`, {
        requestId,
        expiresAt,
        attempts: attempt,
        cause: lastCause,
      })
    }
    try {
      const res = await post(envelope, Math.max(left, 1))
      if (res.status !== 503) return { res, resent: attempt > 0 && maybeSent }
      let code: unknown
      try {
        code = (JSON.parse(res.text) as { code?: unknown } | null)?.code
      } catch {}
      if (code === C.enclave_halted) return { res, resent: attempt > 0 && maybeSent }
      if (typeof code !== 'string' || !NOT_FORWARDED.has(code)) maybeSent = true
      lastCause = toAgentError({ status: res.status, body: { code, message: 'bursar host answered 503' } })
    } catch (cause) {
      lastCause = cause
      const errno = (cause as NodeJS.ErrnoException).code ?? ((cause as { cause?: { code?: string } }).cause?.code)
      if (errno !== 'ECONNREFUSED') maybeSent = true
      // Nothing ever reached a host: fail fast as before (there is nothing to resend the answer for).
      else if (!maybeSent) throw new EnclaveUnavailableError('bursar host unreachable', { cause, details: url })
    }
    const wait = Math.min(backoff, Math.max(expiresAt - Date.now() - MIN_ATTEMPT_MS, 0))
    backoff = Math.min(backoff * 2, BACKOFF_MAX_MS)
    await new Promise((r) => setTimeout(r, wait / 2 + Math.random() * (wait / 2)))
  }
}

async function viaFetch(doFetch: typeof globalThis.fetch, url: string, body: string, timeoutMs: number) {
  const res = await doFetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    signal: AbortSignal.timeout(timeoutMs),
  })
  // rt42: bounded as postHttp1 bounds the default path (res.text() took all a host sent before the timeout).
  const text = await boundedText(res)
  if (text === null) throw new Error(`bursar host's answer was longer than 8 MiB or did not arrive whole`)
  return { status: res.status, text }
}
