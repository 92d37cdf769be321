import { EnclaveError } from '../../shared/errors/EnclaveError.js'
import type { Enclave } from '../Enclave.js'
import type { LedgerEvent } from '../../core/ledger/LedgerEvent.js'
import { checkLedgerEvents } from '../../core/ledger/checkLedgerEvents.js'
import type { WalletView } from '../../core/state/stateTypes.js'
import { type LedgerActOutcome, ledgerActEvents } from '../../core/owner/ledgerActEvents.js'

/** Applies ledger events, live or replayed from stored audit entries (same path); an illegal event is a broken invariant. */
export function applyEvents(enclave: Enclave, wallet: WalletView, events: readonly unknown[]): void {
  try {
    enclave.state.apply({ type: 'ledger', wallet: wallet.address, events })
  } catch (err) {
    enclave.halt(`replayed ledger event rejected: ${(err as Error).message}`)
  }
}

type LedgerAct = Parameters<typeof ledgerActEvents>[0]['act']

/** Applies a ledger owner act: the pure core decides the events; validate them on a copy, then apply. */
export function ledgerOwnerAct(enclave: Enclave, wallet: WalletView, act: LedgerAct): LedgerActOutcome {
  const out = ledgerActEvents({ wallet, act, now: enclave.now() })
  // SECURITY: validate first, then apply: an act whose effects would be invalid is refused before anything changes.
  const checked = checkLedgerEvents(wallet.ledger, out.events)
  if (!checked.ok) throw new EnclaveError('owner_act_invalid', `The act's ledger effect is invalid: ${checked.message}`.slice(0, 200))
  applyEvents(enclave, wallet, out.events)
  return out
}
