import type { AuditEvent } from '../../shared/audit/auditEntry.js'
import { EnclaveError } from '../../shared/errors/EnclaveError.js'
import { checkIssuePermit } from '../../shared/owner/ownerLimits.js'
import type { LedgerEvent } from '../ledger/LedgerEvent.js'
import { ledgerAsset } from '../ledger/ledgerAsset.js'
import { issuePermit } from '../policy/issuePermit.js'
import type { WalletView } from '../state/stateTypes.js'
import type { VerifiedOwnerAct } from '../../shared/owner/ownerActTypes.js'

export type LedgerActOutcome = { agentId: string | null; event: AuditEvent; events: LedgerEvent[]; result: Record<string, unknown> }

/** The ledger acts a wallet's time lock can hold (governance/holdAct.ts): the signer applies them when due. */
export type HeldLedgerAct = Extract<VerifiedOwnerAct, { primaryType: 'FreezeAgent' | 'IssuePermit' | 'CreditBudget' }>

/**
 * The ledger events of an owner act the time lock may hold (freeze/unfreeze, credit budget, issue a permit) as a pure
 * function: it reads the wallet, refuses with a typed error, and returns the events the shell validates and applies.
 * Issue 12 (diet36): apart from ledgerActEvents.ts, so the signer, which applies only held acts, loads only these.
 */
export function heldActEvents(wallet: WalletView, act: HeldLedgerAct, at: number): LedgerActOutcome {
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
    case 'CreditBudget': {
      // SECURITY: budget comes back only on the owner's signature, never on the host's word.
      const m = act.message
      if (!wallet.agents.has(m.agentId)) throw new EnclaveError('agent_not_found', 'No such agent on this wallet')
      if (BigInt(m.amount) === 0n) throw new EnclaveError('owner_act_invalid', 'A budget credit must be positive')
      // Number() is exact: the schema bounds chainId to [1, 2^53 - 1].
      const events: LedgerEvent[] = [{ type: 'budget_credit', agentId: m.agentId, chainId: Number(m.chainId), asset: ledgerAsset(m.asset), amount: m.amount, at }]
      return { agentId: m.agentId, event: 'budget_released', events, result: { agentId: m.agentId, credited: m.amount } }
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
  // A sealed held act of another type (none is ever held): refused, so the writer audits it as cancelled.
  throw new EnclaveError('owner_act_invalid', `${(act as { primaryType: string }).primaryType} is not an act the time lock holds`)
}
