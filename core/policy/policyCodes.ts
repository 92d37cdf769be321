/**
 * Stable snake_case denial codes of the policy evaluator (x402 `errors.ts`
 * style): they reach audit entries and HTTP clients, so never rename one.
 */
export const POLICY_CODES = {
  agent_frozen: 'agent_frozen',
  approval_pending: 'approval_pending',
  policy_agent_mismatch: 'policy_agent_mismatch',
  policy_expired: 'policy_expired',
  policy_velocity_exceeded: 'policy_velocity_exceeded',
  policy_asset_not_in_registry: 'policy_asset_not_in_registry',
  policy_not_yet_valid: 'policy_not_yet_valid',
  policy_authorization_expired: 'policy_authorization_expired',
  policy_validity_window_too_long: 'policy_validity_window_too_long',
  policy_denied_by_rule: 'policy_denied_by_rule',
  policy_kind_not_allowed: 'policy_kind_not_allowed',
  policy_chain_not_allowed: 'policy_chain_not_allowed',
  policy_asset_not_allowed: 'policy_asset_not_allowed',
  policy_payto_not_allowed: 'policy_payto_not_allowed',
  policy_host_not_allowed: 'policy_host_not_allowed',
  policy_spender_not_allowed: 'policy_spender_not_allowed',
  policy_contract_not_allowed: 'policy_contract_not_allowed',
  policy_selector_not_allowed: 'policy_selector_not_allowed',
  policy_typed_data_not_allowed: 'policy_typed_data_not_allowed',
  policy_message_too_long: 'policy_message_too_long',
  policy_outside_time_window: 'policy_outside_time_window',
  policy_no_budget_for_asset: 'policy_no_budget_for_asset',
  policy_per_tx_cap_exceeded: 'policy_per_tx_cap_exceeded',
  policy_daily_cap_exceeded: 'policy_daily_cap_exceeded',
  policy_calendar_day_cap_exceeded: 'policy_calendar_day_cap_exceeded',
  policy_no_matching_rule: 'policy_no_matching_rule',
  policy_pre_approval_exhausted: 'policy_pre_approval_exhausted',
  policy_permit_invalid: 'policy_permit_invalid',
  policy_pending_limit: 'policy_pending_limit',
  policy_permit_mismatch: 'policy_permit_mismatch',
  policy_permit_amount_exceeded: 'policy_permit_amount_exceeded',
  policy_risk_spend_spike: 'policy_risk_spend_spike',
} as const

export type PolicyCode = keyof typeof POLICY_CODES
