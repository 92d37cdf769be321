import { EnclaveError } from '../../shared/errors/EnclaveError.js'
import type { Enclave } from '../Enclave.js'
import type { LedgerEvent } from '../../core/ledger/LedgerEvent.js'
import { checkLedgerEvents } from '../../core/ledger/checkLedgerEvents.js'
import type { SpendLedger } from '../../core/ledger/SpendLedger.js'
import { applyLedgerEvent } from '../../core/ledger/applyLedgerEvent.js'
import type { WalletRecord } from '../../core/state/stateTypes.js'
import { type LedgerActOutcome, ledgerActEvents } from '../../core/owner/ledgerActEvents.js'

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

type LedgerAct = Parameters<typeof ledgerActEvents>[0]['act']

/** Applies a ledger owner act: the pure core decides the events; validate them on a copy, then apply. */
export function ledgerOwnerAct(enclave: Enclave, wallet: WalletRecord, act: LedgerAct): LedgerActOutcome {
  const ledger = ledgerOf(wallet)
  const out = ledgerActEvents({ wallet, act, now: enclave.now() })
  // SECURITY: validate first, then apply: an act whose effects would be invalid is refused before anything changes.
  const checked = checkLedgerEvents(ledger, out.events)
  if (!checked.ok) throw new EnclaveError('owner_act_invalid', `The act's ledger effect is invalid: ${checked.message}`.slice(0, 200))
  applyEvents(enclave, wallet, out.events)
  return out
}
