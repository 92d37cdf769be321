import { randomBytes, sign } from 'node:crypto'
import type { Hex } from 'viem'
import { REQUEST_MAX_LIFETIME_MS } from '../shared/schemas/agentRequest.js'
import { ed25519PrivateKeyFromSeed } from './ed25519PrivateKeyFromSeed.js'
import { EnclaveUnavailableError } from './errors.js'
import type { AgentKey } from './loadAgentKey.js'
import { toAgentError } from './toAgentError.js'

export type PostSignedRequestParameters = {
  host: string
  agentKey: AgentKey
  wallet: Hex
  /** Host route, e.g. `/v1/agent/status`. */
  path: string
  /** The request's own fields; v, agentId, wallet, nonce and issuedAt (and expiresAt on `/sign`) are added. */
  fields: Record<string, unknown>
  fetch?: typeof globalThis.fetch | undefined
  timeoutMs?: number | undefined
}

/**
 * Signs one agent request (Ed25519 over the exact JSON text, the same
 * framing as requestSignature) and posts `{ request, signature }`. Answers
 * the parsed 2xx body; a refusal becomes the typed SDK error. A stale clock
 * or a just-restarted enclave is retried with a fresh nonce and timestamp.
 */
export async function postSignedRequest(params: PostSignedRequestParameters): Promise<{ status: number; body: unknown }> {
  const key = ed25519PrivateKeyFromSeed(params.agentKey.privateKey)
  const url = `${params.host.replace(/\/+$/, '')}${params.path}`
  for (let attempt = 0; ; attempt++) {
    const issuedAt = Date.now()
    const request = {
      v: 1,
      agentId: params.agentKey.agentId,
      wallet: params.wallet,
      nonce: randomBytes(16).toString('hex'),
      issuedAt,
      // Sign requests carry their deadline (the enclave signs nothing after it); reads do not.
      ...(params.path.endsWith('/sign') ? { expiresAt: issuedAt + Math.min(params.timeoutMs ?? REQUEST_MAX_LIFETIME_MS, REQUEST_MAX_LIFETIME_MS) } : {}),
      ...params.fields,
    }
    const text = JSON.stringify(request)
    const signature = sign(null, Buffer.from(text, 'utf8'), key).toString('hex')
    let res: Response
    try {
      res = await (params.fetch ?? globalThis.fetch)(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ request: text, signature }),
        signal: AbortSignal.timeout(params.timeoutMs ?? 30_000),
      })
    } catch (cause) {
      throw new EnclaveUnavailableError('bursar host unreachable or timed out', { cause, details: url })
    }
    const body = (await boundedJson(res)) as { code?: unknown; dryRun?: unknown } | null
    // A refusal may come with a 2xx status (202 approval_pending): a code is success only inside a dry-run answer.
    if (res.ok && body && (typeof body.code !== 'string' || body.dryRun === true)) return { status: res.status, body }
    const code = body?.code
    if (attempt < 2 && (code === 'request_stale' || code === 'request_not_yet_valid' || code === 'request_before_enclave_start')) {
      // The enclave names retryAfterMs for its start floor (2 s after it started); 2.1 s covers an older enclave.
      const wait = Number((body as { retryAfterMs?: unknown }).retryAfterMs ?? (code === 'request_before_enclave_start' ? 2_100 : 1))
      await new Promise((r) => setTimeout(r, Math.min(Math.max(wait, 1), 5_000)))
      continue
    }
    throw toAgentError({ status: res.status, body })
  }
}

/** rt41: the most of a host's answer read (postHttp1's MAX_ANSWER): past it the answer is malformed (response_invalid). */
const MAX_ANSWER_BYTES = 8 * 1024 * 1024

/** The answer's JSON, or null (not JSON, or longer than MAX_ANSWER_BYTES: the rest is not read; res.json() buffered all of it). */
async function boundedJson(res: Response): Promise<unknown> {
  const text = await boundedText(res)
  try {
    return text === null ? null : JSON.parse(text)
  } catch {
    return null
  }
}

/** The answer's text, or null (longer than MAX_ANSWER_BYTES: the rest is not read; or the stream failed). rt42: also a sign request's through a caller's `fetch`. */
export async function boundedText(res: Response): Promise<string | null> {
  const parts: Uint8Array[] = []
  let size = 0
  try {
    for await (const part of res.body ?? []) {
      if ((size += part.length) > MAX_ANSWER_BYTES) return null // leaving the loop cancels the stream
      parts.push(part)
    }
    return Buffer.concat(parts, size).toString('utf8')
  } catch {
    return null
  }
}
