import type { AgentDryRunResult, WireError } from '../../shared/protocol/messages.js'
import type { AgentRequest } from '../../shared/schemas/agentRequest.js'
import type { DecodedAction } from '../../shared/schemas/decodedAction.js'
import { type Policy, parseStoredPolicy } from '../../shared/schemas/policyShape.js'
import { type WalletPolicy, parseWalletPolicy } from '../../shared/schemas/walletPolicy.js'
import { describeAction, factsOf } from '../kinds/kindTable.js'
import { exitDue } from '../owner/keyExit.js'
import type { AgentRecord, PolicyRecord, WalletPolicyRecord, WalletView } from '../state/stateTypes.js'
import type { decidePolicy } from './decidePolicy.js'

/**
 * What refuses an agent's request before its policy is read, in the writer at decision time: the deadline by the
 * enclave's clock (a request its agent gave up on, e.g. behind a stalled writer, is refused, never signed or
 * counted), a revoked agent, a rolled-back wallet, the owners' key exit, no policy. Null: go on to the policy.
 */
export function requestGate(r: AgentRequest, wallet: WalletView, agent: Readonly<AgentRecord>, rec: Readonly<PolicyRecord> | undefined, now: number): WireError | null {
  if (now > r.expiresAt && !r.dryRun) return { code: 'request_expired', message: 'The request’s deadline passed before it was decided; nothing was signed' }
  if (agent.status === 'revoked') return { code: 'agent_revoked', message: 'Agent was revoked by its owner' }
  if (wallet.rolledBack) return { code: 'wallet_rolled_back', message: 'Wallet state was rolled back; the owner must resync' }
  // SECURITY: the owners took the key out (non-custodial exit): nothing more is signed here unless it is re-imported.
  if (exitDue(wallet, now)) return { code: 'wallet_exported', message: 'The owners exported this wallet’s key; it signs nothing more' }
  if (!rec || rec.revoked) return { code: 'agent_no_policy', message: rec ? 'The owner revoked this agent’s policy' : 'No policy is set for this agent' }
  return null
}

/** A dry run's answer: the verdict and the spends the action would count, nothing counted or signed. */
export function dryRunResult(action: DecodedAction, v: ReturnType<typeof decidePolicy>): AgentDryRunResult {
  const spends = factsOf(action).spends.map((s) => ({ chainId: s.chainId, asset: s.asset, amount: s.amount.toString(), to: s.to, role: s.role }))
  const base = { dryRun: true as const, verdict: v.verdict, rule: v.rule, describe: describeAction(action), spends }
  return v.verdict === 'allow' ? base : { ...base, code: v.code, message: v.message }
}

const policyCache = new Map<string, Policy | WalletPolicy>()

/** A stored policy parsed once per hash (bounded: a cache, not state). */
export function cachedPolicy(rec: Readonly<PolicyRecord>): Policy
export function cachedPolicy(rec: WalletPolicyRecord | undefined, wallet: true): WalletPolicy | null
export function cachedPolicy(rec: { json: string; hash: string } | undefined, wallet?: true): Policy | WalletPolicy | null {
  if (!rec) return null
  let p = policyCache.get(rec.hash)
  if (!p) {
    p = wallet ? parseWalletPolicy(rec.json) : parseStoredPolicy(rec.json)
    if (policyCache.size >= 4096) policyCache.clear()
    policyCache.set(rec.hash, p)
  }
  return p
}
