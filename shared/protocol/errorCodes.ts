/**
 * Stable snake_case codes that cross the host↔enclave boundary and reach
 * HTTP clients, with the HTTP status the host maps each to. Domain modules
 * (policy_*, sign_*, attestation_*, audit_*, seal_*) add their own codes with
 * the same prefixes; unknown codes map by prefix in the host's error table.
 */
export const PROTOCOL_ERROR_CODES = {
  frame_too_large: 'frame_too_large',
  frame_invalid_cbor: 'frame_invalid_cbor',
  frame_empty: 'frame_empty',
  message_invalid: 'message_invalid',
  message_unknown_type: 'message_unknown_type',
  protocol_version_unsupported: 'protocol_version_unsupported',
  phase_illegal: 'phase_illegal',
  enclave_halted: 'enclave_halted',
  enclave_not_ready: 'enclave_not_ready',
  enclave_unavailable: 'enclave_unavailable',
  enclave_timeout: 'enclave_timeout',
  internal_error: 'internal_error',
  state_invalid: 'state_invalid',
  state_rollback_detected: 'state_rollback_detected',
  owner_signature_invalid: 'owner_signature_invalid',
  owner_act_invalid: 'owner_act_invalid',
  owner_act_stale: 'owner_act_stale',
  owner_act_replayed: 'owner_act_replayed',
  owner_not_authorized: 'owner_not_authorized',
  wallet_not_found: 'wallet_not_found',
  wallet_rolled_back: 'wallet_rolled_back',
  agent_not_found: 'agent_not_found',
  agent_exists: 'agent_exists',
  agent_revoked: 'agent_revoked',
  agent_frozen: 'agent_frozen',
  agent_no_policy: 'agent_no_policy',
  agent_signature_invalid: 'agent_signature_invalid',
  request_invalid: 'request_invalid',
  request_stale: 'request_stale',
  request_not_yet_valid: 'request_not_yet_valid',
  request_replayed: 'request_replayed',
  request_before_enclave_start: 'request_before_enclave_start',
  policy_invalid: 'policy_invalid',
  policy_version_not_newer: 'policy_version_not_newer',
  policy_hash_mismatch: 'policy_hash_mismatch',
  pending_not_found: 'pending_not_found',
  approval_pending: 'approval_pending',
  /** Bounded state (shared/owner/ownerLimits.ts): a state-growing act past a limit. */
  limit_wallets_total: 'limit_wallets_total',
  limit_wallets_per_owner: 'limit_wallets_per_owner',
  limit_agents_per_wallet: 'limit_agents_per_wallet',
  limit_policy_size: 'limit_policy_size',
  limit_permits_per_agent: 'limit_permits_per_agent',
  limit_permit_lifetime: 'limit_permit_lifetime',
  limit_create_nonces: 'limit_create_nonces',
  limit_state_size: 'limit_state_size',
  /** Wallet creation is admission-controlled: this owner is not on the operator's allowlist. */
  owner_not_admitted: 'owner_not_admitted',
} as const

export type ProtocolErrorCode = keyof typeof PROTOCOL_ERROR_CODES
