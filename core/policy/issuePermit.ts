import type { LedgerEvent } from '../ledger/LedgerEvent.js'
import { ledgerAsset } from '../ledger/ledgerAsset.js'
import type { LedgerView } from '../state/stateTypes.js'

const ZERO = '0x0000000000000000000000000000000000000000'

export type IssuePermitParameters = {
  permitId: string
  agentId: string
  chainId: number
  asset: string
  amount: string
  /** Pay-to lock; zero address or null = none. */
  payTo: string | null
  /** Host lock; '' or null = none. */
  host: string | null
  expiresAt: number
  /** true: the permit may exceed budgets and does not hold budget; false: it holds its amount until used, released or expired. */
  exceedCaps: boolean
  now: number
}
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
  const asset = ledgerAsset(p.asset)
  const event: LedgerEvent = {
    type: 'permit_issued',
    permitId: p.permitId,
    agentId: p.agentId,
    chainId: p.chainId,
    asset,
    amount: p.amount,
    payTo,
    host,
    expiresAt: p.expiresAt,
    exceedCaps: p.exceedCaps,
    at: p.now,
  }
  return { ok: true, events: [event] }
}
