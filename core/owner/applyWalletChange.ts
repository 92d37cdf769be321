import type { PolicyRecord, WalletPolicyRecord, WalletRecord } from '../state/stateTypes.js'
import type { AgentRecord } from '../state/stateTypes.js'
import type * as z from 'zod'
import type { WalletChangeJsonSchema } from '../../shared/governance/decisionSchema.js'

/**
 * What a wallet act changes: the shell applies it with applyWalletChange, the one mutator of agents and policies. The
 * decision schema's variants (shared/governance/decisionSchema.ts WalletChangeJsonSchema: one definition), but an
 * agent's key as bytes and the governance records as the wallet holds them (`undefined`: dropped, not `null`):
 * - `governance_set`: governance records replaced whole: the owner set and thresholds (`governance`), the open
 *   proposals after a signature was added or an applied act ended them (governance/quorum.ts), the owners' key exit
 *   scheduled or dropped (`exit: undefined`: cancelled before it was due, or the key re-imported), the unfreezes,
 *   permits and credits waiting out the delay (`held`, core/owner/heldActs.ts), the approve-above window (`loneApproved`);
 * - `scheduled`: a widening policy act waiting out the wallet's delay (replaces what was scheduled for the same agent);
 * - `scheduled_cancelled`: scheduled loosenings dropped: one by act hash, or every one of an agent (a stop act on it);
 * - `scheduled_due`: scheduled loosenings whose delay has passed come into force (idempotent: a function of the time).
 */
export type WalletChange =
  | Exclude<z.infer<typeof WalletChangeJsonSchema>, { type: 'agent_registered' | 'governance_set' }>
  | { type: 'agent_registered'; agent: AgentRecord }
  | { type: 'governance_set'; set: Partial<Pick<WalletRecord, 'governance' | 'proposals' | 'exit' | 'held' | 'loneApproved'>> }

/** The one mutator of a wallet's agents and policies. */
export function applyWalletChange(wallet: WalletRecord, c: WalletChange): void {
  switch (c.type) {
    case 'agent_registered':
      wallet.agents.set(c.agent.agentId, c.agent)
      return
    case 'policy_set':
      wallet.policies.set(c.policy.agentId, c.policy)
      wallet.scheduled = wallet.scheduled?.filter((s) => s.agentId !== c.policy.agentId)
      return
    case 'wallet_policy_set':
      wallet.walletPolicy = c.policy
      wallet.scheduled = wallet.scheduled?.filter((s) => s.agentId !== null)
      return
    case 'scheduled':
      wallet.scheduled = [...(wallet.scheduled ?? []).filter((s) => s.agentId !== c.item.agentId), c.item]
      return
    case 'scheduled_cancelled': {
      const keep = (s: { actHash: string; agentId: string | null }) => s.actHash !== c.actHash && (c.agentId === undefined || s.agentId !== c.agentId)
      wallet.scheduled = wallet.scheduled?.filter(keep)
      wallet.held = wallet.held?.filter(keep)
      return
    }
    case 'governance_set':
      Object.assign(wallet, c.set)
      return
    case 'scheduled_due':
      for (const s of wallet.scheduled ?? []) {
        if (s.effectiveAt > c.now) continue
        if (s.agentId === null) wallet.walletPolicy = s.policy as WalletPolicyRecord
        else wallet.policies.set(s.agentId, s.policy as PolicyRecord)
      }
      wallet.scheduled = wallet.scheduled?.filter((s) => s.effectiveAt > c.now)
      return
    // SECURITY: revocations change the live records in place, so a request already holding them sees the change.
    case 'policy_revoked':
    case 'agent_revoked':
      if (c.type === 'policy_revoked') wallet.policies.get(c.agentId)!.revoked = true
      else wallet.agents.get(c.agentId)!.status = 'revoked'
      wallet.scheduled = wallet.scheduled?.filter((s) => s.agentId !== c.agentId)
      wallet.held = wallet.held?.filter((s) => s.agentId !== c.agentId)
      return
  }
}
