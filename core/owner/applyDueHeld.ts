import type { AuditEntryBody, AuditEvent } from '../../shared/audit/auditEntry.js'
import { EnclaveError } from '../../shared/errors/EnclaveError.js'
import { checkLedgerEvents } from '../ledger/checkLedgerEvents.js'
import type { StateChange, WalletView } from '../state/stateTypes.js'
import { dueHeld } from './heldActs.js'
import { type HeldLedgerAct, heldActEvents } from './heldActEvents.js'

/** The rule owner-act audit entries name. */
export const OWNER_RULE = 'owner_act'

export type InfoFields = Partial<Omit<AuditEntryBody, 'time' | 'stateVersion' | 'event'>>
/** What applying owner decisions needs of a state holder: the signer's Enclave, or governance's sandbox of one wallet. */
export type OwnerShell<T> = {
  state: { apply(c: StateChange): void }
  appendInfo(tx: T, event: AuditEvent, fields?: InfoFields): void
  halt(why: string): never
}

/** Applies ledger events, live or replayed from stored audit entries (same path); an illegal event is a broken invariant. `built`: applyLedgerEvent's. */
export function applyEvents<T>(shell: OwnerShell<T>, wallet: WalletView, events: readonly unknown[], built = false): void {
  try {
    shell.state.apply({ type: 'ledger', wallet: wallet.address, events, built })
  } catch (err) {
    shell.halt(`replayed ledger event rejected: ${(err as Error).message}`)
  }
}

/**
 * Applies the held unfreezes, permits and credits whose delay has passed (core/owner/heldActs.ts), in the writer, each
 * audited with its ledger events and act hash; one that no longer applies (e.g. the permit expired) is dropped and
 * audited as cancelled. Called before owner acts and agent decisions, so a due act counts from its first use.
 */
export function applyDueHeld<T extends { snapshot: boolean }>(shell: OwnerShell<T>, wallet: WalletView, tx: T, now: number): void {
  if (!wallet.held?.length) return
  const { due, waiting } = dueHeld(wallet, now)
  if (due.length === 0) return
  shell.state.apply({ type: 'wallet_changed', wallet: wallet.address, change: { type: 'governance_set', set: { held: waiting } } })
  tx.snapshot = true
  for (const h of due) {
    const base = { wallet: wallet.address, agentId: h.agentId, rule: OWNER_RULE, requestId: h.actHash }
    try {
      const act = { primaryType: h.primaryType, message: JSON.parse(h.message), signer: h.signer } as HeldLedgerAct
      const out = heldActEvents(wallet, act, now)
      const checked = checkLedgerEvents(wallet.ledger, out.events)
      if (!checked.ok) throw new EnclaveError('owner_act_invalid', checked.message)
      applyEvents(shell, wallet, out.events)
      shell.appendInfo(tx, out.event, { ...base, ledger: out.events, reason: `${h.primaryType} held since ${new Date(h.scheduledAt).toISOString()} (time lock)` })
    } catch (err) {
      shell.appendInfo(tx, 'scheduled_cancelled', { ...base, reason: `${h.primaryType} no longer applies: ${(err as Error).message}`.slice(0, 280) })
    }
  }
}
