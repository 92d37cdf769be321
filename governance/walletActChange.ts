import { hexToBytes } from 'viem'
import type { AuditEvent } from '../shared/audit/auditEntry.js'
import { EnclaveError } from '../shared/errors/EnclaveError.js'
import { agentIdFromPublicKey } from '../shared/identity/agentIdFromPublicKey.js'
import { OWNER_LIMITS, checkLimit } from '../shared/owner/ownerLimits.js'
import type { AgentRecord, Governance, PolicyRecord, Scheduled, WalletPolicyRecord, WalletRecord, WalletView } from '../core/state/stateTypes.js'
import { ledgerAsset } from '../core/ledger/ledgerAsset.js'
import { installPolicy, installWalletPolicy } from './installPolicy.js'
import { delayAt, governanceOf } from './quorum.js'
import type { VerifiedOwnerAct } from './verifyOwnerAct.js'

import { type WalletChange, applyWalletChange } from '../core/owner/applyWalletChange.js'
export { type WalletChange, applyWalletChange }

/** The acts that change a wallet's agents, policies or governance: the one list of them. */
const WALLET_ACTS = ['RegisterAgent', 'SetPolicy', 'SetWalletPolicy', 'RevokePolicy', 'RevokeAgent', 'SetOwners', 'SetApprovalQuorum', 'CancelScheduled'] as const
export type WalletAct = Extract<VerifiedOwnerAct, { primaryType: (typeof WALLET_ACTS)[number] }>
export const isWalletAct = (act: VerifiedOwnerAct): act is WalletAct => (WALLET_ACTS as readonly string[]).includes(act.primaryType)

export type WalletActOutcome = {
  change: WalletChange
  agentId: string | null
  event: AuditEvent
  policy: { version: number; hash: string } | null
  result: Record<string, unknown>
}

export type WalletActChangeParameters = { wallet: WalletView; act: WalletAct; policyText: string | undefined; now: number }

/**
 * The owner's wallet acts (register an agent, set or revoke its policy,
 * revoke the agent) as a pure function: it reads the wallet, refuses with a
 * typed error (nothing has changed then), and returns the change to apply.
 */
export function walletActChange({ wallet, act, policyText, now }: WalletActChangeParameters): WalletActOutcome {
  switch (act.primaryType) {
    case 'RegisterAgent': {
      const m = act.message
      const publicKey = hexToBytes(m.agentPublicKey as `0x${string}`)
      if (agentIdFromPublicKey(publicKey) !== m.agentId) throw new EnclaveError('owner_act_invalid', 'agentId does not match agentPublicKey')
      if (wallet.agents.has(m.agentId)) throw new EnclaveError('agent_exists', 'Agent already registered on this wallet')
      const max = OWNER_LIMITS.agentsPerWallet
      checkLimit(wallet.agents.size < max, 'agentsPerWallet', `Wallet ${wallet.address} already has ${max} agents (the maximum, revoked ones included)`)
      const agent: AgentRecord = { agentId: m.agentId, publicKey, label: m.label, status: 'active', registeredAt: now }
      return { change: { type: 'agent_registered', agent }, agentId: m.agentId, event: 'agent_registered', policy: null, result: { agentId: m.agentId } }
    }
    case 'SetPolicy': {
      const rec = installPolicy(wallet, act.message, policyText)
      const policy = { version: rec.version, hash: rec.hash }
      return { change: { type: 'policy_set', policy: rec }, agentId: rec.agentId, event: 'policy_set', policy, result: { agentId: rec.agentId, policyVersion: rec.version, policyHash: rec.hash } }
    }
    case 'SetWalletPolicy': {
      const rec = installWalletPolicy(wallet, act.message, policyText)
      const policy = { version: rec.version, hash: rec.hash }
      return { change: { type: 'wallet_policy_set', policy: rec }, agentId: null, event: 'wallet_policy_set', policy, result: { policyVersion: rec.version, policyHash: rec.hash } }
    }
    case 'RevokePolicy': {
      // The agent stays registered with no policy: refused (agent_no_policy) until a newer SetPolicy.
      const { agentId } = act.message
      const rec = wallet.policies.get(agentId)
      if (!rec || rec.revoked) throw new EnclaveError('agent_no_policy', 'This agent has no policy to revoke')
      const policy = { version: rec.version, hash: rec.hash }
      return { change: { type: 'policy_revoked', agentId }, agentId, event: 'policy_revoked', policy, result: { agentId, policyVersion: rec.version, revoked: true } }
    }
    case 'SetOwners': {
      const m = act.message
      const q = (v: string) => Number(v) // exact: the schema bounds thresholds to [1, MAX_OWNERS]
      const thresholds = { stop: q(m.stopQuorum), approve: q(m.approveQuorum), loosen: q(m.loosenQuorum), agents: q(m.agentsQuorum), owners: q(m.ownersQuorum) }
      const [delayMs, cur] = [Number(m.delaySeconds) * 1000, delayAt(wallet, now)]
      const prevDelay = delayMs < cur ? { ms: cur, until: now + cur } : undefined
      const governance: Governance = { owners: m.owners.map((o) => o.toLowerCase() as `0x${string}`), thresholds, delayMs, approveAbove: wallet.governance?.approveAbove, prevDelay }
      return { change: { type: 'governance_set', set: { governance } }, agentId: null, event: 'owners_set', policy: null, result: { owners: governance.owners } }
    }
    case 'SetApprovalQuorum': {
      const m = act.message
      const rule = { chainId: Number(m.chainId), asset: ledgerAsset(m.asset), above: m.above, quorum: Number(m.quorum) }
      const gov = governanceOf(wallet)
      if (rule.quorum > gov.owners.length) throw new EnclaveError('owner_act_invalid', `quorum ${rule.quorum} exceeds the ${gov.owners.length} owners`)
      const rest = (gov.approveAbove ?? []).filter((r) => r.chainId !== rule.chainId || r.asset !== rule.asset)
      if (rest.length >= 8) throw new EnclaveError('owner_act_invalid', 'A wallet has at most 8 approval-amount rules')
      const governance = { ...gov, approveAbove: rule.quorum > 1 ? [...rest, rule] : rest }
      return { change: { type: 'governance_set', set: { governance } }, agentId: null, event: 'owners_set', policy: null, result: { owners: governance.owners } }
    }
    case 'CancelScheduled': {
      const { actHash } = act.message
      const s = wallet.scheduled?.find((x) => x.actHash === actHash) ?? wallet.held?.find((x) => x.actHash === actHash)
      // An exit can be cancelled until its key was collected (a due one then signs again: the key never left).
      if (!s && wallet.exit?.actHash === actHash && wallet.exit.collectedAt === undefined) {
        return { change: { type: 'governance_set', set: { exit: undefined } }, agentId: null, event: 'scheduled_cancelled', policy: null, result: { cancelled: actHash } }
      }
      if (!s) throw new EnclaveError('proposal_not_found', `No loosening ${actHash} waits out the delay (it may have taken effect)`)
      return { change: { type: 'scheduled_cancelled', actHash }, agentId: s.agentId, event: 'scheduled_cancelled', policy: null, result: { cancelled: actHash } }
    }
    case 'RevokeAgent': {
      const { agentId } = act.message
      if (!wallet.agents.has(agentId)) throw new EnclaveError('agent_not_found', 'No such agent on this wallet')
      return { change: { type: 'agent_revoked', agentId }, agentId, event: 'agent_revoked', policy: null, result: { agentId, status: 'revoked' } }
    }
  }
}
