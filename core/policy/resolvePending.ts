import type { LedgerEvent } from '../ledger/LedgerEvent.js'
import type { LedgerView } from '../state/stateTypes.js'

export type ResolvePendingParameters = { pendingId: string; approve: boolean; now: number }
export type ResolvePendingReturnType =
  | { ok: true; events: LedgerEvent[] }
  | { ok: false; code: 'pending_not_found' | 'pending_expired' | 'pending_already_resolved'; message: string }

/**
 * The owner's (signed, verified by the caller) answer to a pending request:
 * the events to apply. Once approved, exactly that request (same digest) is
 * allowed once, until the pending request's expiry.
 */
export function resolvePending(ledger: LedgerView, { pendingId, approve, now }: ResolvePendingParameters): ResolvePendingReturnType {
  const p = ledger.getPending(pendingId)
  if (!p) return { ok: false, code: 'pending_not_found', message: `no pending request ${pendingId}` }
  if (now >= p.expiresAt) return { ok: false, code: 'pending_expired', message: `pending request ${pendingId} expired` }
  if (p.status !== 'pending')
    return { ok: false, code: 'pending_already_resolved', message: `pending request ${pendingId} is already ${p.status}` }
  return { ok: true, events: [{ type: 'pending_resolved', pendingId, approve, at: now }] }
}
