import { EnclaveError } from '../shared/errors/EnclaveError.js'
import type { VerifiedOwnerAct } from '../shared/owner/ownerActTypes.js'
import type { KeyExit, WalletView } from '../core/state/stateTypes.js'
import { delayAt, governanceOf } from './quorum.js'

export type ExportPlan = { threshold: number; exit: KeyExit | null; collect: boolean }

/**
 * The non-custodial exit as a pure step. A first ExportKey needs the strictest threshold of the owner set and is
 * scheduled the wallet's delay ahead (any owner cancels it meanwhile with CancelScheduled); with no delay it is due at
 * once. Once due, any owner collects the sealed key with the same act (same recipient: the quorum agreed on it);
 * until the first collection any owner may still cancel it (the key has not left; the wallet signs again).
 * Before that, collecting is refused (`export_time_locked`), and a second exit to another key is refused too.
 */
export function exportKeyPlan(wallet: WalletView, act: Extract<VerifiedOwnerAct, { primaryType: 'ExportKey' }>, actHash: `0x${string}`, now: number): ExportPlan {
  const recipientKey = act.message.recipientKey.toLowerCase() as `0x${string}`
  const e = wallet.exit
  if (e) {
    if (e.recipientKey !== recipientKey) throw new EnclaveError('export_time_locked', `An exit to another key (${e.recipientKey.slice(0, 12)}…) is scheduled; cancel it first`)
    if (e.effectiveAt > now) throw new EnclaveError('export_time_locked', `The exit takes effect at ${new Date(e.effectiveAt).toISOString()} (the wallet's time lock); any owner can cancel it until then`)
    return { threshold: 1, exit: null, collect: true }
  }
  const delayMs = delayAt(wallet, now)
  const exit = { actHash, recipientKey, scheduledAt: now, effectiveAt: now + delayMs }
  // SECURITY: the strictest act includes the approval-amount rules: the key out signs any amount.
  const gov = governanceOf(wallet)
  return { threshold: Math.max(...Object.values(gov.thresholds), ...(gov.approveAbove ?? []).map((r) => Math.min(r.quorum, gov.owners.length))), exit, collect: delayMs === 0 }
}
