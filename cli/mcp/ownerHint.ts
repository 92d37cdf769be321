/** What the owner (or the agent) can do about a refusal, in words an LLM can relay; keyed by the stable code. */
export function ownerHint(code: string, params: { agentId: string; wallet: string; pendingId?: string | undefined }): string {
  const who = `--wallet ${params.wallet} --agent ${params.agentId}`
  switch (code) {
    case 'approval_pending':
      return `Nothing was paid. The owner can approve pending request ${params.pendingId ?? '(id above)'} with \`bursar owner approve ${params.pendingId ?? '<id>'}\`; then call fetch_paid again with the same url (approval_status shows progress).`
    case 'policy_per_tx_cap_exceeded':
    case 'policy_daily_cap_exceeded':
    case 'policy_calendar_day_cap_exceeded':
      return `Nothing was paid, and this policy does not send it to the owner for approval (request_approval cannot help). The owner can raise the cap (\`bursar owner policy set ${who}\`) or give budget back (\`bursar owner budget credit ${who}\`).`
    case 'policy_wallet_per_tx_cap_exceeded':
    case 'policy_wallet_daily_cap_exceeded':
    case 'policy_wallet_calendar_day_cap_exceeded':
      return `Nothing was paid: the wallet-wide cap (all of the wallet's agents together) is reached. The owner can raise it (\`bursar owner wallet policy set --wallet ${params.wallet} FILE\`) or you wait until earlier spends leave the window.`
    case 'policy_payto_not_allowed':
    case 'policy_host_not_allowed':
    case 'policy_chain_not_allowed':
    case 'policy_asset_not_allowed':
    case 'policy_no_matching_rule':
    case 'policy_no_budget_for_asset':
      return `Nothing was paid. This merchant/asset is outside the owner's policy: the owner can add it (\`bursar owner policy set ${who}\`).`
    case 'policy_velocity_exceeded':
      return 'Nothing was paid. Too many requests in the window: wait and retry, or the owner can raise the velocity limit.'
    case 'agent_frozen':
      return `Nothing was paid. Risk controls or the owner froze this agent: the owner can unfreeze it with \`bursar owner agent unfreeze ${who}\`.`
    case 'agent_revoked':
      return 'Nothing was paid. The owner revoked this agent key for good: it needs a new agent key from the owner.'
    case 'agent_no_policy':
      return `Nothing was paid. No active policy for this agent: the owner sets one with \`bursar owner policy set ${who}\`.`
    case 'approval_unavailable':
      return `Nothing was paid or requested: the policy refuses this purchase outright instead of sending it to the owner. Do not ask again; the owner can change the policy (\`bursar owner policy set ${who}\`: raise the cap, add the merchant, or route it to approval with onViolation: pending).`
    case 'max_amount_exceeded':
      return 'Nothing was paid: the price is above the max_amount you set. Raise max_amount if the purchase is worth it.'
    case 'enclave_unavailable':
      return 'Nothing was paid as far as bursar knows: the bursar host or enclave is unreachable; retry later.'
    default:
      return code.startsWith('policy_')
        ? `Nothing was paid. The owner can change the policy (\`bursar owner policy set ${who}\`).`
        : 'Nothing was paid.'
  }
}
