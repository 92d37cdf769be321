import type { LedgerEvent } from '../ledger/LedgerEvent.js'
import { ledgerAsset } from '../ledger/ledgerAsset.js'
import type { LedgerView } from '../state/stateTypes.js'

const ZERO = '0x0000000000000000000000000000000000000000'

/**
 * The permit_issued event's fields, `now` for its `at`. `payTo`: the zero address or null = no pay-to lock; `host`: ''
 * or null = no host lock; `exceedCaps` true: the permit may exceed budgets and holds none, false: it holds its amount
 * until used, released or expired.
 */
export type IssuePermitParameters = Omit<Extract<LedgerEvent, { type: 'permit_issued' }>, 'type' | 'at'> & { now: number }
export type IssuePermitReturnType =
  | { ok: true; events: LedgerEvent[] }
  | { ok: false; code: 'permit_exists' | 'permit_invalid'; message: string }

/** Turns the owner's (signed, verified by the caller) IssuePermit act into ledger events, refusing unlocked or already-expired permits. */
export function issuePermit(ledger: LedgerView, p: IssuePermitParameters): IssuePermitReturnType {
  if (ledger.getPermit(p.permitId)) return { ok: false, code: 'permit_exists', message: `permit ${p.permitId} exists` }
  const payTo = p.payTo === null || p.payTo.toLowerCase() === ZERO ? null : p.payTo.toLowerCase()
  const host = p.host === null || p.host === '' ? null : p.host.toLowerCase()
  if (payTo === null && host === null)
    return { ok: false, code: 'permit_invalid', message: 'a permit must be locked to a pay-to address or a host' }
  if (p.expiresAt <= p.now) return { ok: false, code: 'permit_invalid', message: 'permit already expired' }
  if (!/^(0|[1-9][0-9]{0,77})$/.test(p.amount)) return { ok: false, code: 'permit_invalid', message: 'bad amount' }
  const { now, ...fields } = p
  return { ok: true, events: [{ type: 'permit_issued', ...fields, asset: ledgerAsset(p.asset), payTo, host, at: now }] }
}
