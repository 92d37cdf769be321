import { BaseError } from '../shared/errors/base.js'
import { errorHint, wireCode } from '../shared/errors/errorCodes.js'

/**
 * Typed errors of the agent SDK. Every one carries a stable snake_case `code`:
 * the host's code where the host sent one, else one of AGENT_ERROR_CODES.
 */
export const AGENT_ERROR_CODES = {
  agent_key_invalid: 'agent_key_invalid',
  enclave_unavailable: 'enclave_unavailable',
  response_invalid: 'response_invalid',
  payments_page_limit: 'payments_page_limit',
  response_signer_mismatch: 'response_signer_mismatch',
  request_invalid: 'request_invalid',
  payment_id_conflict: 'payment_id_conflict',
  request_outcome_unknown: 'request_outcome_unknown',
  transaction_unsupported: 'transaction_unsupported',
} as const

/** The owner's policy refused the request (`policy_*` codes); `rule` names the rule, `remaining` the budget left if known. */
export class PolicyDeniedError extends BaseError {
  override name = 'PolicyDeniedError'
  readonly rule: string | undefined
  readonly remaining: string | undefined
  constructor(code: string, message: string, params: { rule?: string | undefined; remaining?: string | undefined }) {
    super(wireCode(code), message, {
      metaMessages: [
        ...(params.rule ? [`Rule: ${params.rule}`] : []),
        ...(params.remaining ? [`Remaining: ${params.remaining}`] : []),
        // What the owner can do about it, from the error table (e.g. add a missing token under `tokens:`).
        ...(errorHint(code) ? [`What to do: ${errorHint(code)}`] : []),
      ],
    })
    this.rule = params.rule
    this.remaining = params.remaining
  }
}

/** Out of policy, held for the owner: nothing was signed. Retry the same call after the owner approves `pendingId`. */
export class ApprovalPendingError extends BaseError {
  override name = 'ApprovalPendingError'
  readonly pendingId: string | undefined
  readonly retryAfterMs: number | undefined
  /** How to proceed: the owner approves (signed) and the agent retries the same request. */
  readonly waitForApproval: string
  constructor(message: string, params: { pendingId?: string | undefined; retryAfterMs?: number | undefined }) {
    const hint = `Ask the owner to approve pending request ${params.pendingId ?? '(unknown id)'} (bursar owner approve), then retry the same call${
      params.retryAfterMs !== undefined ? ` after ~${params.retryAfterMs} ms` : ''
    }.`
    super('approval_pending', message, { metaMessages: [hint] })
    this.pendingId = params.pendingId
    this.retryAfterMs = params.retryAfterMs
    this.waitForApproval = hint
  }
}

/** The owner revoked this agent key: it will never be served again. */
export class AgentRevokedError extends BaseError {
  override name = 'AgentRevokedError'
  constructor(message: string) {
    super('agent_revoked', message)
  }
}

/** Risk controls froze this agent until the owner unfreezes it. */
export class AgentFrozenError extends BaseError {
  override name = 'AgentFrozenError'
  constructor(message: string) {
    super('agent_frozen', message)
  }
}

/** The host or its enclave could not be reached or answered 503 / timed out; nothing was signed as far as the SDK knows. */
export class EnclaveUnavailableError extends BaseError {
  override name = 'EnclaveUnavailableError'
  readonly retryAfterMs: number | undefined
  constructor(message: string, params: { cause?: unknown; details?: string; retryAfterMs?: number | undefined } = {}) {
    super(AGENT_ERROR_CODES.enclave_unavailable, message, { cause: params.cause, details: params.details })
    this.retryAfterMs = params.retryAfterMs
  }
}

/**
 * No answer arrived before the request's deadline although the SDK resent the SAME signed bytes (timeouts, dropped
 * connections, 503s): the payment MAY have been signed. After `expiresAt` the enclave can no longer sign it, so the
 * outcome is fixed; look up `requestId` (`bursar audit query --request <id>`) before paying again.
 */
export class RequestOutcomeUnknownError extends BaseError {
  override name = 'RequestOutcomeUnknownError'
  /** The request's nonce: the audit's requestId and the host's answer key. */
  readonly requestId: string
  readonly expiresAt: number
  readonly attempts: number
  constructor(message: string, params: { requestId: string; expiresAt: number; attempts: number; cause?: unknown }) {
    super('request_outcome_unknown', message, {
      cause: params.cause,
      metaMessages: [`Request id: ${params.requestId}`, `Deadline: ${new Date(params.expiresAt).toISOString()}`],
    })
    this.requestId = params.requestId
    this.expiresAt = params.expiresAt
    this.attempts = params.attempts
  }
}

/**
 * x402 payment identifier (the `payment-identifier` extension's idempotency key) already used by this SDK for
 * another purchase (other resource, price, payee, asset or scheme): nothing was signed. One identifier, one payment.
 */
export class PaymentIdConflictError extends BaseError {
  override name = 'PaymentIdConflictError'
  readonly paymentId: string
  constructor(message: string, params: { paymentId: string }) {
    super(AGENT_ERROR_CODES.payment_id_conflict, message, { metaMessages: [`Payment identifier: ${params.paymentId}`] })
    this.paymentId = params.paymentId
  }
}

/** Any other refusal or malformed exchange; `code` is the host's code or an AGENT_ERROR_CODES entry. */
export class BursarRequestError extends BaseError {
  override name = 'BursarRequestError'
  readonly status: number | undefined
  constructor(code: string, message: string, params: { status?: number | undefined; cause?: unknown; details?: string } = {}) {
    // What to do about it, from the error table (e.g. a token outside the registry: add it under `tokens:`).
    const hint = errorHint(code)
    super(wireCode(code), message, { cause: params.cause, details: params.details, ...(hint ? { metaMessages: [`What to do: ${hint}`] } : {}) })
    this.status = params.status
  }
}

/** A key file or key object that is not a valid bursar agent key. */
export class AgentKeyError extends BaseError {
  override name = 'AgentKeyError'
  /** `details`: what to do about it (shown as a hint). */
  constructor(message: string, params: { cause?: unknown; details?: string } = {}) {
    super(AGENT_ERROR_CODES.agent_key_invalid, message, { cause: params.cause, ...(params.details ? { metaMessages: [params.details] } : {}) })
  }
}
