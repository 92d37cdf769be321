import type { AuditEvent } from '../../shared/audit/auditEntry.js'
import { EnclaveError } from '../../shared/errors/EnclaveError.js'
import { checkIssuePermit } from '../../shared/owner/ownerLimits.js'
import type { LedgerEvent } from '../ledger/LedgerEvent.js'
import { ledgerAsset } from '../ledger/ledgerAsset.js'
import { issuePermit } from '../policy/issuePermit.js'
import { resolvePending } from '../policy/resolvePending.js'
import type { WalletView } from '../state/stateTypes.js'
import type { VerifiedOwnerAct } from '../../shared/owner/ownerActTypes.js'

export type LedgerActEventsParameters = { wallet: WalletView; act: LedgerAct; now: number }
export type LedgerActOutcome = { agentId: string | null; event: AuditEvent; events: LedgerEvent[]; result: Record<string, unknown> }

export type LedgerAct = Extract<VerifiedOwnerAct, { primaryType: 'FreezeAgent' | 'ResolvePending' | 'IssuePermit' | 'CreditBudget' | 'ReleaseLocked' }>

/**
 * Owner acts that change a wallet's ledger (freeze/unfreeze, approve/reject a
 * pending request, credit budget, issue a permit) as a pure function: it
 * reads the wallet, refuses with a typed error, and returns the ledger events
 * the shell validates and applies — it changes nothing itself.
 */
export function ledgerActEvents({ wallet, act, now: at }: LedgerActEventsParameters): LedgerActOutcome {
  const ledger = wallet.ledger
  switch (act.primaryType) {
    case 'FreezeAgent': {
      const m = act.message
      if (!wallet.agents.has(m.agentId)) throw new EnclaveError('agent_not_found', 'No such agent on this wallet')
      const isFrozen = ledger.frozenInfo(m.agentId) !== undefined
      let events: LedgerEvent[] = []
      if (m.frozen && !isFrozen) events = [{ type: 'agent_frozen', agentId: m.agentId, reason: 'owner', at }]
      if (!m.frozen && isFrozen) events = [{ type: 'agent_unfrozen', agentId: m.agentId, at }]
      return { agentId: m.agentId, event: m.frozen ? 'agent_frozen' : 'agent_unfrozen', events, result: { agentId: m.agentId, frozen: m.frozen } }
    }
    case 'ResolvePending': {
      const m = act.message
      const p = ledger.getPending(m.pendingId)
      if (!p) throw new EnclaveError('pending_not_found', `No pending request ${m.pendingId}`)
      // SECURITY: the owner signed the digest of what they were shown; it must be this pending's purchase.
      if (p.digest.toLowerCase() !== m.digest.toLowerCase()) {
        throw new EnclaveError('owner_act_invalid', 'The approval was signed for another purchase than this pending request')
      }
      const r = resolvePending(ledger, { pendingId: m.pendingId, approve: m.approve, now: at })
      if (!r.ok) throw new EnclaveError('pending_not_found', r.message)
      return { agentId: p.agentId, event: m.approve ? 'pending_approved' : 'pending_rejected', events: r.events, result: { pendingId: m.pendingId, approved: m.approve } }
    }
    case 'CreditBudget': {
      // SECURITY: budget comes back only on the owner's signature, never on the host's word.
      const m = act.message
      if (!wallet.agents.has(m.agentId)) throw new EnclaveError('agent_not_found', 'No such agent on this wallet')
      if (BigInt(m.amount) === 0n) throw new EnclaveError('owner_act_invalid', 'A budget credit must be positive')
      // Number() is exact: the schema bounds chainId to [1, 2^53 - 1].
      const events: LedgerEvent[] = [{ type: 'budget_credit', agentId: m.agentId, chainId: Number(m.chainId), asset: ledgerAsset(m.asset), amount: m.amount, at }]
      return { agentId: m.agentId, event: 'budget_released', events, result: { agentId: m.agentId, credited: m.amount } }
    }
    case 'ReleaseLocked': {
      // SECURITY: locked funds come back only on the owner's signature (after they checked the chain), never the host's.
      const m = act.message
      const id = m.channelId.toLowerCase()
      const c = ledger.channel(id)
      const held = c ? ledger.locked(c.chainId, c.asset, id) : 0n
      if (BigInt(m.amount) === 0n || BigInt(m.amount) > held) throw new EnclaveError('owner_act_invalid', `ReleaseLocked: between 1 and the ${held} still locked in the channel`)
      return { agentId: null, event: 'budget_released', events: [{ type: 'channel_released', channelId: id, amount: m.amount, at }], result: { channelId: id, released: m.amount } }
    }
    case 'IssuePermit': {
      const m = act.message
      if (!wallet.agents.has(m.agentId)) throw new EnclaveError('agent_not_found', 'No such agent on this wallet')
      // Number() is exact: the schema bounds chainId to [1, 2^53 - 1] and expiresAt to [1, 8.64e15].
      const expiresAt = Number(m.expiresAt)
      const held = ledger.toJSON().permits.filter((p) => p.agentId === m.agentId).length
      checkIssuePermit({ expiresAt, now: at, agentId: m.agentId, held })
      // SECURITY: the policy module's checks: unique id, locked to a pay-to or a host, not already expired.
      const issued = issuePermit(ledger, {
        permitId: m.permitId,
        agentId: m.agentId,
        chainId: Number(m.chainId),
        asset: m.asset,
        amount: m.amount,
        payTo: m.payTo,
        host: m.host,
        expiresAt,
        exceedCaps: m.exceedCaps,
        now: at,
      })
      if (!issued.ok) {
        if (issued.code === 'permit_exists') throw new EnclaveError('owner_act_replayed', `Permit ${m.permitId} already exists`)
        throw new EnclaveError('owner_act_invalid', `IssuePermit: ${issued.message}`)
      }
      return { agentId: m.agentId, event: 'permit_issued', events: issued.events, result: { permitId: m.permitId } }
    }
  }
}
