import type { AuditEvent } from '../../shared/audit/auditEntry.js'
import { EnclaveError } from '../../shared/errors/EnclaveError.js'
import type { Enclave } from '../Enclave.js'
import { type LedgerEvent, LedgerEventSchema } from '../../core/ledger/LedgerEvent.js'
import { LIMIT_CODES, OWNER_LIMITS } from '../../shared/owner/ownerLimits.js'
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

/**
 * SECURITY: validate first, then apply. An owner act's events are schema-checked and applied to a copy of the
 * ledger; if either fails, the act is refused with a typed error and nothing has changed. So a request's content
 * can never reach `halt` (finding 1 of issue 13); only a failure on the real ledger after this check would.
 */
export function checkEvents(wallet: WalletRecord, events: LedgerEvent[]): void {
  for (const e of events) {
    const r = LedgerEventSchema.safeParse(e)
    if (!r.success) {
      const issue = r.error.issues[0]
      throw new EnclaveError('owner_act_invalid', `The act's ledger effect is invalid: ${issue?.path.join('.')} ${issue?.message}`.slice(0, 200))
    }
  }
  const probe = SpendLedger.fromJSON(ledgerOf(wallet).toJSON())
  try {
    for (const e of events) probe.apply(e)
  } catch (err) {
    throw new EnclaveError('owner_act_invalid', `The act cannot apply to this wallet's ledger: ${(err as Error).message}`.slice(0, 200))
  }
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
      if (expiresAt > at + OWNER_LIMITS.permitLifetimeMs) {
        throw new EnclaveError(LIMIT_CODES.permitLifetimeMs, `A permit may expire at most ${OWNER_LIMITS.permitLifetimeMs / 86_400_000} days ahead`)
      }
      const held = ledger.toJSON().permits.filter((p) => p.agentId === m.agentId).length
      if (held >= OWNER_LIMITS.permitsPerAgent) {
        throw new EnclaveError(LIMIT_CODES.permitsPerAgent, `Agent ${m.agentId} already has ${OWNER_LIMITS.permitsPerAgent} permits in the ledger (closed ones leave 27 h after they expire)`)
      }
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
  checkEvents(wallet, out.events)
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
