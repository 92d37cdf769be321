import type { Enclave } from '../Enclave.js'
import type { WalletView } from '../../core/state/stateTypes.js'

/** Applies ledger events, live or replayed from stored audit entries (same path); an illegal event is a broken invariant. */
export function applyEvents(enclave: Enclave, wallet: WalletView, events: readonly unknown[]): void {
  try {
    enclave.state.apply({ type: 'ledger', wallet: wallet.address, events })
  } catch (err) {
    enclave.halt(`replayed ledger event rejected: ${(err as Error).message}`)
  }
}
