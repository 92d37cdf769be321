import { randomBytes, sign } from 'node:crypto'
import type { Hex } from 'viem'
import { z } from 'zod'
import { PROTOCOL_ERROR_CODES as C } from '../shared/protocol/errorCodes.js'
import { AgentRequestSchema } from '../shared/schemas/agentRequest.js'
import type { AgentRequest } from '../shared/schemas/agentRequest.js'
import { ed25519PrivateKeyFromSeed } from './ed25519PrivateKeyFromSeed.js'
import { AGENT_ERROR_CODES, BursarRequestError, EnclaveUnavailableError } from './errors.js'
import type { AgentKey } from './loadAgentKey.js'
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
}

const hex = (bytes: number) => z.string().regex(new RegExp(`^0x[0-9a-fA-F]{${bytes * 2}}$`))
const SignResponseSchema = z.object({
  signature: hex(65),
  signedHash: hex(32),
  serializedTransaction: z
    .string()
    .regex(/^0x[0-9a-fA-F]+$/)
    .optional(),
  receipt: z.unknown(),
})
export type SignResponse = {
  signature: Hex
  signedHash: Hex
  serializedTransaction?: Hex | undefined
  receipt: unknown
}

/**
 * Sends one agent request to `${host}/v1/agent/sign`: the request object is
 * serialized ONCE, its UTF-8 bytes are signed with the agent's Ed25519 key,
 * and `{ request: text, signature }` is posted. A `request_stale` /
 * `request_not_yet_valid` answer (clock skew) is retried once with a fresh
 * nonce and timestamp; every other refusal becomes a typed error.
 */
export async function requestSignature(params: RequestSignatureParameters): Promise<SignResponse> {
  const key = ed25519PrivateKeyFromSeed(params.agentKey.privateKey)
  const doFetch = params.fetch ?? globalThis.fetch
  const url = `${params.host.replace(/\/+$/, '')}/v1/agent/sign`

  for (let attempt = 0; ; attempt++) {
    const request = {
      v: 1,
      agentId: params.agentKey.agentId,
      wallet: params.wallet,
      nonce: randomBytes(16).toString('hex'),
      issuedAt: Date.now(),
      ...params.operation,
      ...(params.context ? { context: params.context } : {}),
      ...(params.permitId ? { permitId: params.permitId } : {}),
    }
    const checked = AgentRequestSchema.safeParse(request)
    if (!checked.success)
      throw new BursarRequestError(AGENT_ERROR_CODES.request_invalid, 'agent request does not match AgentRequestSchema', {
        cause: checked.error,
      })
    // SECURITY: the signature covers exactly these bytes; the host forwards the text unchanged.
    const text = JSON.stringify(request)
    const signature = sign(null, Buffer.from(text, 'utf8'), key).toString('hex')

    let res: Response
    try {
      res = await doFetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ request: text, signature }),
        signal: AbortSignal.timeout(params.timeoutMs ?? 30_000),
      })
    } catch (cause) {
      throw new EnclaveUnavailableError('bursar host unreachable or timed out', { cause, details: url })
    }
    let body: unknown
    try {
      body = await res.json()
    } catch (cause) {
      if (res.status === 503) throw new EnclaveUnavailableError('bursar host answered 503', { cause })
      throw new BursarRequestError(AGENT_ERROR_CODES.response_invalid, `bursar host sent non-JSON (HTTP ${res.status})`, {
        status: res.status,
        cause,
      })
    }
    const code = (body as { code?: unknown } | null)?.code
    // A refusal may come with a 2xx status (e.g. 202 approval_pending): a code without a signature is never success.
    if (!res.ok || (typeof code === 'string' && (body as { signature?: unknown }).signature === undefined)) {
      if (attempt === 0 && (code === C.request_stale || code === C.request_not_yet_valid)) continue
      if (attempt < 2 && code === 'request_before_enclave_start') {
        // The enclave restarted moments ago and refuses anything older: wait out its floor, sign afresh.
        const wait = Number((body as { retryAfterMs?: unknown }).retryAfterMs ?? 1_000)
        await new Promise((r) => setTimeout(r, Math.min(Math.max(wait, 1), 5_000)))
        continue
      }
      throw toAgentError({ status: res.status, body })
    }
    const parsed = SignResponseSchema.safeParse(body)
    if (!parsed.success)
      throw new BursarRequestError(AGENT_ERROR_CODES.response_invalid, 'bursar host sent a malformed signature response', {
        status: res.status,
        cause: parsed.error,
      })
    return parsed.data as SignResponse
  }
}
