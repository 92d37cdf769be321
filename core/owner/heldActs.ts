import type { HeldAct, WalletView } from '../state/stateTypes.js'

/** The held acts due at `now` (oldest first) and those still waiting. */
export function dueHeld(wallet: WalletView, now: number): { due: HeldAct[]; waiting: HeldAct[] } {
  const held = wallet.held ?? []
  return { due: held.filter((h) => h.effectiveAt <= now), waiting: held.filter((h) => h.effectiveAt > now) }
}
