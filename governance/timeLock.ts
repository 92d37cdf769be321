import { parsePolicy } from '../shared/schemas/policy.js'
import { parseWalletPolicy } from '../shared/schemas/walletPolicy.js'
import { OWNER_LIMITS, checkLimit } from '../shared/owner/ownerLimits.js'
import type { PolicyRecord, Scheduled, WalletPolicyRecord, WalletView } from '../core/state/stateTypes.js'
import { policyWidenings, walletPolicyWidenings } from './policyWidening.js'
import { delayAt } from './quorum.js'
import { type WalletPolicies, policyAt } from '../core/owner/policyAt.js'
export { type WalletPolicies, policyAt }
import type { WalletChange } from './walletActChange.js'

/**
 * What a policy act widens, from the policy in force now and the new one (computed by the enclave, never declared).
 * A revoked policy counts as none.
 */
export function widenings(wallet: WalletView, c: WalletChange, now: number): string[] {
  if (c.type === 'policy_set') {
    const cur = policyAt(wallet, c.policy.agentId, now)
    return policyWidenings(cur && !cur.revoked ? parsePolicy(cur.json) : null, parsePolicy(c.policy.json))
  }
  if (c.type === 'wallet_policy_set') {
    const cur = policyAt(wallet, null, now)
    return walletPolicyWidenings(cur ? parseWalletPolicy(cur.json) : null, parseWalletPolicy(c.policy.json))
  }
  return []
}

/**
 * SECURITY: the time lock. A policy act that widens anything waits the wallet's delay (a `scheduled` change; any
 * owner can cancel it meanwhile); one that only narrows applies at once. Either way a newer act for the same agent
 * replaces what was scheduled for it.
 */
export function timeLockChange(wallet: WalletView, c: WalletChange, widens: string[], actHash: `0x${string}`, now: number): WalletChange {
  const delayMs = delayAt(wallet, now)
  if ((c.type !== 'policy_set' && c.type !== 'wallet_policy_set') || widens.length === 0 || delayMs === 0) return c
  const agentId = c.type === 'policy_set' ? c.policy.agentId : null
  const others = (wallet.scheduled ?? []).filter((s) => s.agentId !== agentId)
  checkLimit(others.length < OWNER_LIMITS.scheduledPerWallet, 'scheduledPerWallet', `Wallet already has ${others.length} loosenings waiting out the delay`)
  // Bounded state: at most 16 paths are kept (the act waits the same either way).
  return { type: 'scheduled', item: { actHash, agentId, policy: c.policy, widens: widens.slice(0, 16), scheduledAt: now, effectiveAt: now + delayMs } }
}
