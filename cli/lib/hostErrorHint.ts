/** What the owner can do about a refusal from the host or enclave, by code (undefined when the message says it all). */
export function hostErrorHint(code: string): string | undefined {
  switch (code) {
    case 'owner_not_authorized':
      return 'This wallet belongs to another owner key: check --key-file / BURSAR_OWNER_KEY (`bursar owner key show`).'
    case 'owner_signature_invalid':
      return 'The act did not verify as signed by your key: check --key-file / BURSAR_OWNER_KEY.'
    case 'owner_act_stale':
      return 'Another act landed first: run the command again (it signs with the next seq).'
    case 'state_rollback_detected':
    case 'wallet_rolled_back':
      return 'The enclave state is older than your last act: run `bursar owner wallet resync --wallet …`, then repeat the acts it lost (see docs/security.md, "Owner receipts and rollback").'
    case 'owner_receipt_invalid':
      return 'Do not trust this answer: the host did not return a receipt signed by the enclave. Check the wallet with `bursar owner wallet list` and prefer another host.'
    case 'owner_not_admitted':
      return 'Wallet creation is limited to the owners the operator allowlisted (BURSAR_OWNER_ALLOWLIST).'
    case 'policy_version_not_newer':
      return 'Raise `version:` in the policy file above the installed one (`bursar owner policy show`).'
    case 'policy_hash_mismatch':
      return 'The host changed the policy text in transit: do not trust this host.'
    case 'wallet_not_found':
      return 'List your wallets with `bursar owner wallet list`.'
    case 'agent_not_found':
      return 'List agents with `bursar owner agent list --wallet …`; register one with `bursar owner agent add`.'
    case 'agent_exists':
      return 'That agent is already registered on this wallet.'
    case 'pending_not_found':
      return 'It was already answered or has expired: `bursar owner pending list` shows what is open.'
    case 'enclave_unavailable':
    case 'enclave_not_ready':
      return 'Start the host and enclave (`make sim`) or pass --host / BURSAR_HOST_URL.'
    default:
      if (code.startsWith('limit_')) return 'A bound on the enclave state (docs/security.md, "Bounded state"): remove something first or use another wallet or enclave.'
      return undefined
  }
}
