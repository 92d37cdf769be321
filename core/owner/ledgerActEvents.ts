import { EnclaveError } from '../../shared/errors/EnclaveError.js'
import { resolvePending } from '../policy/resolvePending.js'
import type { WalletView } from '../state/stateTypes.js'
import type { VerifiedOwnerAct } from '../../shared/owner/ownerActTypes.js'
import { type LedgerActOutcome, heldActEvents } from './heldActEvents.js'

export type { LedgerActOutcome } from './heldActEvents.js'
export type LedgerActEventsParameters = { wallet: WalletView; act: LedgerAct; now: number }

export type LedgerAct = Extract<VerifiedOwnerAct, { primaryType: 'FreezeAgent' | 'ResolvePending' | 'IssuePermit' | 'CreditBudget' | 'ReleaseLocked' }>

/**
 * Owner acts that change a wallet's ledger (freeze/unfreeze, approve/reject a
 * pending request, credit budget, issue a permit, release locked funds) as a pure function: it
 * reads the wallet, refuses with a typed error, and returns the ledger events
 * the shell validates and applies — it changes nothing itself. The acts a time lock can hold are heldActEvents'.
 */
export function ledgerActEvents({ wallet, act, now: at }: LedgerActEventsParameters): LedgerActOutcome {
  const ledger = wallet.ledger
  switch (act.primaryType) {
    case 'FreezeAgent':
    case 'CreditBudget':
    case 'IssuePermit':
      return heldActEvents(wallet, act, at)
    case 'ResolvePending': {
      const m = act.message
      const p = ledger.getPending(m.pendingId)
      if (!p) throw new EnclaveError('pending_not_found', `No pending request ${m.pendingId}`)
      // SECURITY: the owner signed the digest of what they were shown; it must be this pending's purchase.
      if (p.digest.toLowerCase() !== m.digest.toLowerCase()) {
        throw new EnclaveError('owner_act_invalid', 'The approval was signed for another purchase than this pending request')
      }
      const r = resolvePending(ledger, { pendingId: m.pendingId, approve: m.approve, now: at })
      if (!r.ok) throw new EnclaveError('pending_not_found', r.message)
      return { agentId: p.agentId, event: m.approve ? 'pending_approved' : 'pending_rejected', events: r.events, result: { pendingId: m.pendingId, approved: m.approve } }
    }
    case 'ReleaseLocked': {
      // SECURITY: locked funds come back only on the owner's signature (after they checked the chain), never the host's.
      const m = act.message
      const id = m.channelId.toLowerCase()
      const c = ledger.channel(id)
      const held = c ? ledger.locked(c.chainId, c.asset, id) : 0n
      if (BigInt(m.amount) === 0n || BigInt(m.amount) > held) throw new EnclaveError('owner_act_invalid', `ReleaseLocked: between 1 and the ${held} still locked in the channel`)
      return { agentId: null, event: 'budget_released', events: [{ type: 'channel_released', channelId: id, amount: m.amount, at }], result: { channelId: id, released: m.amount } }
    }
  }
}
