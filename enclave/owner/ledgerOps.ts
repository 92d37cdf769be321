import type { AuditEvent } from '../../shared/audit/auditEntry.js'
import { EnclaveError } from '../../shared/errors/EnclaveError.js'
import type { Enclave } from '../Enclave.js'
import type { LedgerEvent } from '../../core/ledger/LedgerEvent.js'
import { checkLedgerEvents } from '../../core/ledger/checkLedgerEvents.js'
import { checkIssuePermit } from '../../shared/owner/ownerLimits.js'
import { SpendLedger } from '../../core/ledger/SpendLedger.js'
import { applyLedgerEvent } from '../../core/ledger/applyLedgerEvent.js'
import { resolvePending } from '../../core/policy/resolvePending.js'
import { issuePermit } from '../../core/policy/issuePermit.js'
import type { WalletRecord } from '../state/stateTypes.js'
import type { VerifiedOwnerAct } from './verifyOwnerAct.js'

/** A fresh wallet's ledger. */
export function newWalletLedger(): SpendLedger {
  return new SpendLedger()
}

export function ledgerOf(wallet: WalletRecord): SpendLedger {
  return wallet.ledger as SpendLedger
}

/** Replays ledger events stored in audit entries (restart path; same function as live). */
export function replayLedgerEvents(enclave: Enclave, wallet: WalletRecord, events: unknown[]): void {
  const ledger = ledgerOf(wallet)
  try {
    for (const e of events) applyLedgerEvent(ledger, e)
  } catch (err) {
    enclave.halt(`replayed ledger event rejected: ${(err as Error).message}`)
  }
}

/** Applies events produced live; an illegal event is a broken invariant. */
export function applyEvents(enclave: Enclave, wallet: WalletRecord, events: LedgerEvent[]): void {
  replayLedgerEvents(enclave, wallet, events)
}

type LedgerAct = Extract<VerifiedOwnerAct, { primaryType: 'FreezeAgent' | 'ResolvePending' | 'IssuePermit' | 'CreditBudget' }>

/** Owner acts that change the ledger: freeze/unfreeze, approve/reject a pending request, issue a permit. */
export function ledgerOwnerAct(
  enclave: Enclave,
  wallet: WalletRecord,
  act: LedgerAct,
): { agentId: string | null; event: AuditEvent; events: LedgerEvent[]; result: Record<string, unknown> } {
  const at = enclave.now()
  const ledger = ledgerOf(wallet)
  let events: LedgerEvent[]
  let out: ReturnType<typeof ledgerOwnerAct>
  switch (act.primaryType) {
    case 'FreezeAgent': {
      const m = act.message
      if (!wallet.agents.has(m.agentId)) throw new EnclaveError('agent_not_found', 'No such agent on this wallet')
      const isFrozen = ledger.frozenInfo(m.agentId) !== undefined
      if (m.frozen === isFrozen) {
        events = []
      } else {
        events = m.frozen
          ? [{ type: 'agent_frozen', agentId: m.agentId, reason: 'owner', at }]
          : [{ type: 'agent_unfrozen', agentId: m.agentId, at }]
      }
      out = { agentId: m.agentId, event: m.frozen ? 'agent_frozen' : 'agent_unfrozen', events, result: { agentId: m.agentId, frozen: m.frozen } }
      break
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
      events = r.events
      out = { agentId: p.agentId, event: m.approve ? 'pending_approved' : 'pending_rejected', events, result: { pendingId: m.pendingId, approved: m.approve } }
      break
    }
    case 'CreditBudget': {
      // SECURITY: budget comes back only on the owner's signature, never on the host's word.
      const m = act.message
      if (!wallet.agents.has(m.agentId)) throw new EnclaveError('agent_not_found', 'No such agent on this wallet')
      if (BigInt(m.amount) === 0n) throw new EnclaveError('owner_act_invalid', 'A budget credit must be positive')
      // Number() is exact: the schema bounds chainId to [1, 2^53 - 1].
      events = [{ type: 'budget_credit', agentId: m.agentId, chainId: Number(m.chainId), asset: m.asset.toLowerCase(), amount: m.amount, at }]
      out = { agentId: m.agentId, event: 'budget_released', events, result: { agentId: m.agentId, credited: m.amount } }
      break
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
      events = issued.events
      out = { agentId: m.agentId, event: 'permit_issued', events, result: { permitId: m.permitId } }
      break
    }
  }
  // SECURITY: validate first, then apply: an act whose effects would be invalid is refused before anything changes.
  const checked = checkLedgerEvents(ledger, out.events)
  if (!checked.ok) throw new EnclaveError('owner_act_invalid', `The act's ledger effect is invalid: ${checked.message}`.slice(0, 200))
  applyEvents(enclave, wallet, out.events)
  return out
}

/** Public ledger view for owners: frozen agents, pending requests, permits. */
export function describeLedger(wallet: WalletRecord) {
  const json = ledgerOf(wallet).toJSON()
  return {
    frozen: Object.keys(json.frozen),
    pending: json.pendings.map((p) => ({ ...p, id: p.pendingId })) as Record<string, unknown>[],
    permits: json.permits as unknown as Record<string, unknown>[],
  }
}
