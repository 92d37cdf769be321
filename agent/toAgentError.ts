import { PROTOCOL_ERROR_CODES as C } from '../shared/protocol/errorCodes.js'
import {
  AgentFrozenError,
  AgentRevokedError,
  ApprovalPendingError,
  BursarRequestError,
  EnclaveUnavailableError,
  PolicyDeniedError,
} from './errors.js'

export type ToAgentErrorParameters = {
  status: number
  /** The parsed JSON error body, if the host sent one. */
  body: unknown
}

const UNAVAILABLE = new Set<string>([C.enclave_unavailable, C.enclave_not_ready, C.enclave_halted, C.enclave_timeout])

/** The one seam where a host's non-2xx answer becomes a typed SDK error (codes are matched, messages only displayed). */
export function toAgentError({ status, body }: ToAgentErrorParameters): Error {
  const b = (body !== null && typeof body === 'object' ? body : {}) as Record<string, unknown>
  const str = (k: string) => (typeof b[k] === 'string' ? (b[k] as string) : undefined)
  const num = (k: string) => (typeof b[k] === 'number' ? (b[k] as number) : undefined)
  const code = str('code')
  const message = (str('message') ?? `bursar host answered HTTP ${status}`).slice(0, 500)

  if (status === 503 || (code !== undefined && UNAVAILABLE.has(code)))
    return new EnclaveUnavailableError(message, { details: code, retryAfterMs: num('retryAfterMs') })
  if (code === undefined) return new BursarRequestError('response_invalid', message, { status })
  if (code.startsWith('policy_')) return new PolicyDeniedError(code, message, { rule: str('rule'), remaining: str('remaining') })
  if (code === C.approval_pending)
    return new ApprovalPendingError(message, { pendingId: str('pendingId'), retryAfterMs: num('retryAfterMs') })
  if (code === C.agent_revoked) return new AgentRevokedError(message)
  if (code === C.agent_frozen) return new AgentFrozenError(message)
  return new BursarRequestError(code, message, { status })
}
