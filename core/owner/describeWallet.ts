import type { WalletInfo } from '../../shared/protocol/messages.js'
import type { WalletView } from '../state/stateTypes.js'
import { governanceOf, liveProposals } from './ownerSet.js'
import { policyAt } from './policyAt.js'

/** Public view of a wallet (no key material): what owners and the dashboard read, with frozen agents, pending requests and permits. */
export function describeWallet(w: WalletView, now: number): WalletInfo {
  const ledger = w.ledger.toJSON()
  return {
    address: w.address,
    owner: w.owner,
    label: w.label,
    ownerSeq: w.ownerSeq,
    rolledBack: w.rolledBack,
    createdAt: w.createdAt,
    walletPolicy: policyAt(w, null, now) ?? null,
    governance: (({ owners, thresholds, delayMs, approveAbove }) => ({ owners, thresholds, delaySeconds: delayMs / 1000, approveAbove: approveAbove ?? [] }))(governanceOf(w)),
    scheduled: (w.scheduled ?? [])
      .filter((s) => s.effectiveAt > now)
      .map(({ actHash, agentId, policy: { version, hash }, widens, scheduledAt, effectiveAt }) => ({ actHash, agentId, version, hash, widens, scheduledAt, effectiveAt })),
    exit: w.exit ? { ...w.exit, due: w.exit.effectiveAt <= now } : null,
    held: (w.held ?? []).map(({ actHash, primaryType, agentId, scheduledAt, effectiveAt }) => ({ actHash, act: primaryType, agentId, scheduledAt, effectiveAt })),
    proposals: liveProposals(w, now).map(({ primaryType, createdAt: _c, ...p }) => ({ ...p, act: primaryType })),
    agents: [...w.agents.values()].map((a) => {
      const p = policyAt(w, a.agentId, now)
      return {
        agentId: a.agentId,
        label: a.label,
        status: a.status,
        frozen: Object.hasOwn(ledger.frozen, a.agentId),
        policy: p && !p.revoked ? { version: p.version, hash: p.hash, json: p.json } : null,
      }
    }),
    pending: ledger.pendings.map((p) => ({ ...p, id: p.pendingId })),
    permits: ledger.permits,
  }
}
