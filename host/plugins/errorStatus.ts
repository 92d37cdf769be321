/** ONE table: error code → HTTP status. Exact codes first, then prefixes. */
const EXACT: Record<string, number> = {
  approval_pending: 202,
  message_invalid: 400,
  request_invalid: 400,
  owner_act_invalid: 400,
  policy_invalid: 400,
  policy_hash_mismatch: 400,
  agent_signature_invalid: 401,
  owner_signature_invalid: 401,
  owner_not_authorized: 403,
  owner_not_admitted: 403,
  agent_revoked: 403,
  agent_frozen: 403,
  agent_no_policy: 403,
  wallet_not_found: 404,
  agent_not_found: 404,
  pending_not_found: 404,
  request_replayed: 409,
  request_stale: 409,
  request_not_yet_valid: 409,
  request_before_enclave_start: 409,
  owner_act_stale: 409,
  owner_act_replayed: 409,
  agent_exists: 409,
  policy_version_not_newer: 409,
  state_rollback_detected: 409,
  wallet_rolled_back: 409,
  enclave_unavailable: 503,
  enclave_not_ready: 503,
  enclave_halted: 503,
  enclave_timeout: 503,
  enclave_busy: 503,
  internal_error: 500,
}
const PREFIX: Array<[string, number]> = [
  ['policy_', 403],
  ['sign_', 400],
  ['attestation_', 400],
  ['audit_', 400],
  ['seal_', 500],
  ['state_', 500],
  /** Bounded state: a limit the act would pass (shared/owner/ownerLimits.ts). */
  ['limit_', 429],
]

export function errorStatus(code: string): number {
  const exact = EXACT[code]
  if (exact) return exact
  for (const [p, s] of PREFIX) if (code.startsWith(p)) return s
  return 400
}
