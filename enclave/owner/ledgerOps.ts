import type { Enclave } from '../Enclave.js'
import type { LedgerEvent } from '../../core/ledger/LedgerEvent.js'
import type { SpendLedger } from '../../core/ledger/SpendLedger.js'
import { applyLedgerEvent } from '../../core/ledger/applyLedgerEvent.js'
import type { WalletRecord } from '../../core/state/stateTypes.js'

export function ledgerOf(wallet: WalletRecord): SpendLedger {
  return wallet.ledger
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
