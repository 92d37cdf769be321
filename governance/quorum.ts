import { EnclaveError } from '../shared/errors/EnclaveError.js'
import { OWNER_LIMITS, checkLimit } from '../shared/owner/ownerLimits.js'
import type { OwnerActType } from '../shared/owner/ownerActTypes.js'
import { ownerActHash } from '../shared/owner/ownerActHash.js'
import type { ActClass, ApproveAbove, Governance, LoneApproval, Proposal, WalletView } from '../core/state/stateTypes.js'
import type { VerifiedOwnerAct } from './verifyOwnerAct.js'
import { factsOf } from '../core/kinds/kindTable.js'
import { ledgerAsset } from '../core/ledger/ledgerAsset.js'

/** Classes of owner acts, each with its own m-of-n threshold (defined with the decision schema, which carries them). */
import { ACT_CLASSES } from '../shared/governance/decisionSchema.js'
export { ACT_CLASSES }

import { governanceOf, liveProposals } from '../core/owner/ownerSet.js'
export { governanceOf, liveProposals }

/** A proposal waits at most this long for the other owners. */
export const PROPOSAL_TTL_MS = 24 * 3_600_000

/**
 * SECURITY: the loosening delay in force. A SetOwners that shortens the delay keeps the old one in force for the old
 * delay's length, so owners cannot switch the time lock off and loosen at once.
 */
export function delayAt(wallet: WalletView, now: number): number {
  const g = governanceOf(wallet)
  return g.prevDelay && now < g.prevDelay.until ? Math.max(g.delayMs, g.prevDelay.ms) : g.delayMs
}

export function isOwner(wallet: WalletView, who: string): boolean {
  return governanceOf(wallet).owners.some((o) => o.toLowerCase() === who.toLowerCase())
}

/**
 * The class of an act, which picks its threshold: anything that only stops or narrows is `stop` (one owner can stop
 * the bleeding); approvals and budget given back are `approve`; what widens an agent's standing is `loosen`; new agents
 * are `agents`; the owner set itself (and Resync, which accepts a possibly older state) is `owners`. `widens` is the
 * enclave's own comparison of the old and new policy, never the caller's word.
 */
export function actClass(act: VerifiedOwnerAct, widens: boolean): ActClass {
  const m = act.message as { frozen?: boolean; approve?: boolean }
  switch (act.primaryType) {
    case 'FreezeAgent':
      return m.frozen ? 'stop' : 'loosen'
    case 'ResolvePending':
      return m.approve ? 'approve' : 'stop'
    case 'SetPolicy':
    case 'SetWalletPolicy':
      return widens ? 'loosen' : 'stop'
    default:
      return FIXED_CLASS[act.primaryType] ?? 'owners'
  }
}
const FIXED_CLASS: Partial<Record<OwnerActType, ActClass>> = { RevokeAgent: 'stop', RevokePolicy: 'stop', CancelScheduled: 'stop', IssuePermit: 'approve', CreditBudget: 'approve', RegisterAgent: 'agents' }

/**
 * SECURITY: how many owners an approval needs: the `approve` threshold, raised by every approval-amount rule whose
 * (chainId, asset) it lets the agent spend more than `above` of — a pending request's spends summed (fees included),
 * or the amount of an IssuePermit (an approval in advance: a permit replaces the rules) or of a CreditBudget (spent
 * budget given back) — counting what approvals below the rule's quorum let spend in the last 24 h, so splitting a
 * payment does not dodge the rule (Safe-style allowance). Undefined for other acts (their class's threshold applies).
 */
export function approveThreshold(wallet: WalletView, act: VerifiedOwnerAct, now: number): number | undefined {
  const spends = approvedSpends(wallet, act)
  const gov = governanceOf(wallet)
  const over = (r: ApproveAbove) => sumOf(spends!, r) + sumOf(loneWindow(wallet, now), r) > BigInt(r.above)
  return spends && Math.max(gov.thresholds.approve, ...(gov.approveAbove ?? []).filter(over).map((r) => Math.min(r.quorum, gov.owners.length)))
}

/**
 * The approve-above window after an approval applied with `threshold` owners: its spends of each ruled asset whose
 * quorum it did not reach are added. Bounded (at most 25 per rule): entries older than 24 h or of a rule the quorum
 * removed drop, and one within the hour is merged into (its time moves to now: it is counted longer, never less).
 */
export function loneApprovals(wallet: WalletView, act: VerifiedOwnerAct, threshold: number, now: number): LoneApproval[] | undefined {
  const spends = approvedSpends(wallet, act)
  const gov = governanceOf(wallet)
  if (!spends || !gov.approveAbove?.length) return undefined
  let list = loneWindow(wallet, now).filter((e) => gov.approveAbove!.some((r) => r.chainId === e.chainId && r.asset === e.asset))
  for (const r of gov.approveAbove) {
    const amount = sumOf(spends, r)
    if (amount === 0n || threshold >= Math.min(r.quorum, gov.owners.length)) continue
    const last = list.findLast((e) => e.chainId === r.chainId && e.asset === r.asset && e.at > now - 3_600_000)
    const entry = { chainId: r.chainId, asset: r.asset, amount: String(amount + BigInt(last?.amount ?? 0)), at: now }
    list = [...list.filter((e) => e !== last), entry]
  }
  return list
}

const loneWindow = (wallet: WalletView, now: number) => (wallet.loneApproved ?? []).filter((e) => e.at > now - 24 * 3_600_000)
const sumOf = (xs: readonly { chainId: number; asset?: string | undefined; amount: bigint | string }[], r: ApproveAbove) =>
  xs.filter((s) => s.chainId === r.chainId && s.asset === r.asset).reduce((a, s) => a + BigInt(s.amount), 0n)

/** What an approval lets the agent spend: a pending request's spends, or a permit's or credit's amount. */
function approvedSpends(wallet: WalletView, act: VerifiedOwnerAct) {
  const m = act.message as { approve?: boolean; pendingId?: string; chainId?: string; asset?: string; amount?: string }
  if (act.primaryType === 'ResolvePending' ? !m.approve : act.primaryType !== 'IssuePermit' && act.primaryType !== 'CreditBudget') return undefined
  const p = m.pendingId === undefined ? undefined : wallet.ledger.getPending(m.pendingId)
  const one = { chainId: Number(m.chainId), asset: m.asset === undefined ? undefined : ledgerAsset(m.asset), amount: BigInt(m.amount ?? 0) }
  return m.pendingId === undefined ? [one] : p ? factsOf(p.summary.action).spends : []
}

/**
 * SECURITY: lowering a threshold needs that threshold, else any threshold above `owners` is illusory (two owners drop a
 * 3-of-3 rule, then act with two). A SetOwners needs every old class threshold it lowers or that its added keys would
 * help reach (and likewise for approve-above quorums, as capped by the owner count); a SetApprovalQuorum that lowers
 * a rule's quorum or raises its amount needs its old quorum.
 */
export function governanceThreshold(wallet: WalletView, act: VerifiedOwnerAct): number | undefined {
  const gov = governanceOf(wallet)
  const cap = (q: number, n = gov.owners.length) => Math.min(q, n)
  let t = gov.thresholds.owners
  if (act.primaryType === 'SetOwners') {
    const m = act.message
    const next: Record<ActClass, number> = { stop: +m.stopQuorum, approve: +m.approveQuorum, loosen: +m.loosenQuorum, agents: +m.agentsQuorum, owners: +m.ownersQuorum }
    // k added keys count as k signatures of whoever adds them: q - 1 old owners plus k new keys must not reach it either.
    const k = m.owners.filter((o) => !isOwner(wallet, o)).length
    for (const [c, q] of Object.entries(gov.thresholds)) if (next[c as ActClass] <= q - 1 + k) t = Math.max(t, q)
    for (const r of gov.approveAbove ?? []) if (cap(r.quorum, m.owners.length) <= cap(r.quorum) - 1 + k) t = Math.max(t, cap(r.quorum))
  } else if (act.primaryType === 'SetApprovalQuorum') {
    const m = act.message
    const old = gov.approveAbove?.find((r) => r.chainId === Number(m.chainId) && r.asset === ledgerAsset(m.asset))
    if (old && (+m.quorum < old.quorum || BigInt(m.above) > BigInt(old.above))) t = Math.max(t, cap(old.quorum))
  } else return undefined
  return t
}

export type QuorumOutcome = { apply: true } | { apply: false; proposal: Proposal; proposals: Proposal[] }

/**
 * One owner's signature on an act, as a pure step. SECURITY: the signer must be a current owner; a signature counts
 * once per owner, and only signatures of owners still in the set count (a removed key's partial signatures die with
 * it). When this signature completes the class's threshold the act applies; otherwise the returned proposal list
 * (bounded, expiring) is what the shell stores.
 */
export function quorumStep(p: { wallet: WalletView; act: VerifiedOwnerAct; cls: ActClass; policyText: string | null; now: number; seq: number; threshold?: number }): QuorumOutcome {
  const gov = governanceOf(p.wallet)
  if (!isOwner(p.wallet, p.act.signer)) throw new EnclaveError('owner_not_authorized', 'Signer is not an owner of this wallet')
  const threshold = p.threshold ?? gov.thresholds[p.cls]
  if (threshold <= 1) return { apply: true }
  const actHash = ownerActHash(p.act.primaryType, p.act.message as Record<string, unknown>)
  const live = liveProposals(p.wallet, p.now)
  const found = live.find((x) => x.actHash === actHash)
  const signers = (found?.signers ?? []).filter((s) => isOwner(p.wallet, s))
  if (signers.some((s) => s.toLowerCase() === p.act.signer.toLowerCase())) {
    throw new EnclaveError('owner_act_replayed', `You already signed this act; it waits for ${threshold - signers.length} more owner(s)`)
  }
  if (signers.length + 1 >= threshold) return { apply: true }
  // SECURITY: one open proposal per proposing owner (a new one replaces the owner's previous one), so a rogue owner
  // cannot fill the wallet's slots and block the others from proposing (e.g. its own removal).
  const open = found ? live : live.filter((x) => x.signers[0]?.toLowerCase() !== p.act.signer.toLowerCase())
  if (!found) checkLimit(open.length < OWNER_LIMITS.proposalsPerWallet, 'proposalsPerWallet', `Wallet already has ${open.length} acts waiting for signatures`)
  const proposal: Proposal = found
    ? { ...found, threshold, signers: [...signers, p.act.signer] }
    : {
        actHash,
        primaryType: p.act.primaryType,
        message: JSON.stringify(p.act.message),
        policy: p.policyText,
        actClass: p.cls,
        threshold,
        signers: [p.act.signer],
        seq: p.seq,
        createdAt: p.now,
        expiresAt: p.now + PROPOSAL_TTL_MS,
      }
  return { apply: false, proposal, proposals: [...open.filter((x) => x !== found), proposal] }
}
