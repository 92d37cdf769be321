import type { PolicyRecord, Scheduled, WalletPolicyRecord } from '../state/stateTypes.js'

/**
 * The policy in force for an agent (or, agentId null, the wallet policy) at `now`: a scheduled widening once its
 * delay has passed, else the installed record. Pure and idempotent, so the writer, restarts and reads agree.
 */
/** What policyAt reads of a wallet (a view or a record). */
export type WalletPolicies = {
  readonly policies: ReadonlyMap<string, Readonly<PolicyRecord>>
  readonly walletPolicy?: WalletPolicyRecord | undefined
  readonly scheduled?: readonly Scheduled[] | undefined
}
export function policyAt(wallet: WalletPolicies, agentId: string, now: number): Readonly<PolicyRecord> | undefined
export function policyAt(wallet: WalletPolicies, agentId: null, now: number): WalletPolicyRecord | undefined
export function policyAt(wallet: WalletPolicies, agentId: string | null, now: number): Readonly<PolicyRecord> | WalletPolicyRecord | undefined {
  const due = wallet.scheduled?.find((s) => s.agentId === agentId && s.effectiveAt <= now)
  return due ? due.policy : agentId === null ? wallet.walletPolicy : wallet.policies.get(agentId)
}
