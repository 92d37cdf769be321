import { type LedgerEvent, LedgerEventSchema } from './LedgerEvent.js'
import { SpendLedger } from './SpendLedger.js'
import type { LedgerView } from '../state/stateTypes.js'

export type CheckLedgerEventsReturnType = { ok: true } | { ok: false; message: string }

/**
 * Validate first, then apply: schema-checks events and applies them to a copy
 * of `ledger`, so a caller can refuse an act whose effects would be invalid
 * before anything changes (issue 13: no request content may reach `halt`).
 */
export function checkLedgerEvents(ledger: LedgerView, events: LedgerEvent[]): CheckLedgerEventsReturnType {
  for (const e of events) {
    const r = LedgerEventSchema.safeParse(e)
    if (!r.success) return { ok: false, message: `${r.error.issues[0]?.path.join('.')} ${r.error.issues[0]?.message}` }
  }
  const probe = SpendLedger.fromJSON(ledger.toJSON())
  try {
    for (const e of events) probe.apply(e)
  } catch (err) {
    return { ok: false, message: (err as Error).message }
  }
  return { ok: true }
}
