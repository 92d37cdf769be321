/**
 * TRUST: the enclave's life cycle. The host drives it with loadState →
 * replayEntries* → finishLoad (loadState again restarts a load; a refused
 * load stays in 'loading'); anything else out of order is refused, and a
 * broken invariant moves to 'halted' for good (qos state.rs).
 */
export type Phase = 'awaiting_state' | 'loading' | 'ready' | 'halted'

export const ALLOWED_TRANSITIONS: Record<Phase, readonly Phase[]> = {
  awaiting_state: ['loading', 'halted'],
  loading: ['ready', 'halted'],
  ready: ['halted'],
  halted: [],
}

/** Which requests each phase accepts (hello is always accepted). */
export const PHASE_ACCEPTS: Record<Phase, readonly string[]> = {
  awaiting_state: ['hello', 'loadState'],
  loading: ['hello', 'loadState', 'replayEntries', 'finishLoad'],
  ready: ['hello', 'catchUp', 'ownerAct', 'ownerActDecision', 'agentSign', 'attest', 'getWallets', 'agentStatus', 'loadWallet', 'dropWallet'],
  halted: ['hello'],
}

export function canTransition(from: Phase, to: Phase): boolean {
  return ALLOWED_TRANSITIONS[from].includes(to)
}
