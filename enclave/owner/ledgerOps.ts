import type { Enclave, Tx } from '../Enclave.js'
import type { WalletView } from '../../core/state/stateTypes.js'
import { dueHeld } from '../../core/owner/heldActs.js'
import { type LedgerAct, ledgerActEvents } from '../../core/owner/ledgerActEvents.js'
import { checkLedgerEvents } from '../../core/ledger/checkLedgerEvents.js'
import { EnclaveError } from '../../shared/errors/EnclaveError.js'
import { OWNER_RULE } from '../state/loadState.js'

/** Applies ledger events, live or replayed from stored audit entries (same path); an illegal event is a broken invariant. */
export function applyEvents(enclave: Enclave, wallet: WalletView, events: readonly unknown[]): void {
  try {
    enclave.state.apply({ type: 'ledger', wallet: wallet.address, events })
  } catch (err) {
    enclave.halt(`replayed ledger event rejected: ${(err as Error).message}`)
  }
}

/**
 * Applies the held unfreezes, permits and credits whose delay has passed (core/owner/heldActs.ts), in the writer, each
 * audited with its ledger events and act hash; one that no longer applies (e.g. the permit expired) is dropped and
 * audited as cancelled. Called before owner acts and agent decisions, so a due act counts from its first use.
 */
export function applyDueHeld(enclave: Enclave, wallet: WalletView, tx: Tx, now: number): void {
  if (!wallet.held?.length) return
  const { due, waiting } = dueHeld(wallet, now)
  if (due.length === 0) return
  enclave.state.apply({ type: 'wallet_changed', wallet: wallet.address, change: { type: 'governance_set', set: { held: waiting } } })
  tx.snapshot = true
  for (const h of due) {
    const base = { wallet: wallet.address, agentId: h.agentId, rule: OWNER_RULE, requestId: h.actHash }
    try {
      const act = { primaryType: h.primaryType, message: JSON.parse(h.message), signer: h.signer } as LedgerAct
      const out = ledgerActEvents({ wallet, act, now })
      const checked = checkLedgerEvents(wallet.ledger, out.events)
      if (!checked.ok) throw new EnclaveError('owner_act_invalid', checked.message)
      applyEvents(enclave, wallet, out.events)
      enclave.appendInfo(tx, out.event, { ...base, ledger: out.events, reason: `${h.primaryType} held since ${new Date(h.scheduledAt).toISOString()} (time lock)` })
    } catch (err) {
      enclave.appendInfo(tx, 'scheduled_cancelled', { ...base, reason: `${h.primaryType} no longer applies: ${(err as Error).message}`.slice(0, 280) })
    }
  }
}
