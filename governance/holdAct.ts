import { OWNER_LIMITS, checkLimit } from '../shared/owner/ownerLimits.js'
import type { HeldAct, WalletView } from '../core/state/stateTypes.js'
import type { LedgerAct } from '../core/owner/ledgerActEvents.js'
import { delayAt } from './quorum.js'

/**
 * SECURITY: the time lock for acts that widen what an agent may do outside its policy — an unfreeze, a permit, a
 * budget credit. With a wallet delay, such an act that reached its quorum is held for the delay (any owner cancels it,
 * and a freeze or revocation of the agent drops it) and applied by the writer once due; otherwise it applies at once.
 * Returns the held act, or null when it applies now.
 */
export function holdAct(wallet: WalletView, act: LedgerAct, actHash: `0x${string}`, now: number): HeldAct | null {
  const delayMs = delayAt(wallet, now)
  const m = act.message as { agentId?: string; frozen?: boolean }
  const widens = act.primaryType === 'FreezeAgent' ? m.frozen === false : act.primaryType === 'IssuePermit' || act.primaryType === 'CreditBudget'
  if (!widens || delayMs === 0 || m.agentId === undefined) return null
  checkLimit((wallet.held ?? []).length < OWNER_LIMITS.scheduledPerWallet, 'scheduledPerWallet', `Wallet already has ${wallet.held?.length} acts waiting out the delay`)
  return { actHash, primaryType: act.primaryType, message: JSON.stringify(act.message), signer: act.signer, agentId: m.agentId, scheduledAt: now, effectiveAt: now + delayMs }
}
