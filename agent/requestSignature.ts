import { type KeyObject, randomFillSync, sign } from 'node:crypto'
import type { Hex } from 'viem'
import { PROTOCOL_ERROR_CODES as C } from '../shared/protocol/errorCodes.js'
import { AgentRequestSchema } from '../shared/schemas/agentRequest.js'
import type { AgentRequest } from '../shared/schemas/agentRequest.js'
import { ed25519PrivateKeyFromSeed } from './ed25519PrivateKeyFromSeed.js'
import { AGENT_ERROR_CODES, BursarRequestError, EnclaveUnavailableError } from './errors.js'
import type { AgentKey } from './loadAgentKey.js'
import { postJson } from './postJson.js'
import { toAgentError } from './toAgentError.js'

type Base = 'v' | 'agentId' | 'wallet' | 'nonce' | 'issuedAt' | 'context' | 'permitId'
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
  /** Per attempt; default 30 000 ms. */
  timeoutMs?: number | undefined
  /**
   * Check the request against AgentRequestSchema before sending (default true), so a bad one fails here with
   * `request_invalid` instead of at the enclave, which parses every request with the same schema anyway.
   */
  precheck?: boolean | undefined
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

export type SignResponse = {
  signature: Hex
  signedHash: Hex
  serializedTransaction?: Hex | undefined
  receipt: unknown
}

/**
 * Sends one agent request to `${host}/v1/agent/sign`: the request object is
 * serialized ONCE, its UTF-8 bytes are signed with the agent's Ed25519 key
 * (key object built once per agent key), and `{ request: text, signature }`
 * is posted over a process-wide keep-alive pool (or `params.fetch` if
 * given). A `request_stale` / `request_not_yet_valid` answer (clock skew) is
 * retried once with a fresh nonce and timestamp; every other refusal becomes
 * a typed error. The answer's shape is checked here; whether its signature
 * is the wallet's is the caller's check (bursarAccount does it).
 */
export async function requestSignature(params: RequestSignatureParameters): Promise<SignResponse> {
  const key = keyOf(params.agentKey)
  const url = `${params.host.replace(/\/+$/, '')}/v1/agent/sign`
  const target = params.fetch ? undefined : new URL(url)
  const timeoutMs = params.timeoutMs ?? 30_000

  for (let attempt = 0; ; attempt++) {
    const request = {
      v: 1,
      agentId: params.agentKey.agentId,
      wallet: params.wallet,
      nonce: freshNonce(),
      issuedAt: Date.now(),
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
    const signature = sign(null, Buffer.from(text, 'utf8'), key).toString('hex')

    const envelope = `{"request":${JSON.stringify(text)},"signature":"${signature}"}`

    let res: { status: number; text: string }
    try {
      res = target
        ? await postJson({ url: target, body: envelope, timeoutMs })
        : await viaFetch(params.fetch!, url, envelope, timeoutMs)
    } catch (cause) {
      throw new EnclaveUnavailableError('bursar host unreachable or timed out', { cause, details: url })
    }
    const ok = res.status >= 200 && res.status < 300
    let body: unknown
    try {
      body = JSON.parse(res.text)
    } catch (cause) {
      if (res.status === 503) throw new EnclaveUnavailableError('bursar host answered 503', { cause })
      throw new BursarRequestError(AGENT_ERROR_CODES.response_invalid, `bursar host sent non-JSON (HTTP ${res.status})`, {
        status: res.status,
        cause,
      })
    }
    const code = (body as { code?: unknown } | null)?.code
    // A refusal may come with a 2xx status (e.g. 202 approval_pending): a code without a signature is never success.
    if (!ok || (typeof code === 'string' && (body as { signature?: unknown }).signature === undefined)) {
      if (attempt === 0 && (code === C.request_stale || code === C.request_not_yet_valid)) continue
      if (attempt < 2 && code === 'request_before_enclave_start') {
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
    return b as SignResponse
  }
}

async function viaFetch(doFetch: typeof globalThis.fetch, url: string, body: string, timeoutMs: number) {
  const res = await doFetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    signal: AbortSignal.timeout(timeoutMs),
  })
  return { status: res.status, text: await res.text() }
}
