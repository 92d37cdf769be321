import { EnclaveError } from '../../shared/errors/EnclaveError.js'
import type { ReplayCache, ReplayCheck } from '../state/ReplayCache.js'

const REPLAY_MESSAGES = {
  request_replayed: 'This request (agent, nonce) was already seen',
  request_stale: 'Request issuedAt is too old; sign a fresh request',
  request_not_yet_valid: 'Request issuedAt is in the future; check the agent clock',
  request_before_enclave_start: 'Request was issued before this enclave started; sign a fresh request',
} as const

/** The typed refusal for a failed replay check; a request signed before this enclave's start says when to retry. */
export function replayRefusal(replay: ReplayCache, check: Exclude<ReplayCheck, 'ok'>, now: number): EnclaveError {
  const retry = check === 'request_before_enclave_start' ? replay.startedAt + replay.futureSkewMs - now + 1 : undefined
  return new EnclaveError(check, REPLAY_MESSAGES[check], retry ? { extra: { retryAfterMs: Math.max(1, retry) } } : {})
}
