import type { Governance, Proposal, WalletView } from '../state/stateTypes.js'

/** The wallet's owner set and thresholds; a wallet that never set one is ruled by its creating owner alone. */
export function governanceOf(wallet: WalletView): Governance {
  return wallet.governance ?? { owners: [wallet.owner], thresholds: { stop: 1, approve: 1, loosen: 1, agents: 1, owners: 1 }, delayMs: 0 }
}

/** Proposals still open: unexpired, and for the next seq (any applied act moves the seq and ends the others). */
export function liveProposals(wallet: WalletView, now: number): Proposal[] {
  return (wallet.proposals ?? []).filter((x) => x.expiresAt > now && x.seq > wallet.ownerSeq)
}
