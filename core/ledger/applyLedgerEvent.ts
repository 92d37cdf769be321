import { LedgerEventSchema } from './LedgerEvent.js'
import type { LedgerEvent } from './LedgerEvent.js'
import { LedgerInvariantError } from './SpendLedger.js'
import type { SpendLedger } from './SpendLedger.js'

/**
 * Schema-checks one event (e.g. read back from a stored audit entry) and applies it: the replay path and the live path
 * share `SpendLedger.apply`. `built` (cpu39, the agent sign path only): an event the pure core built just now, typed,
 * applied without the parse; coreEventsFitReplay.test.ts holds every such event to the schema replay applies.
 */
export function applyLedgerEvent(ledger: SpendLedger, event: unknown, built = false): LedgerEvent {
  const r = built ? { success: true as const, data: event as LedgerEvent } : LedgerEventSchema.safeParse(event)
  if (!r.success) throw new LedgerInvariantError(`malformed ledger event: ${r.error.issues[0]?.message ?? 'invalid'}`)
  const e = r.data
  ledger.apply(e)
  return e
}
