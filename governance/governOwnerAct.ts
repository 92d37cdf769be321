import { OWNER_RULE, applyDueHeld } from '../core/owner/applyDueHeld.js'
import { createWalletChange } from './createWalletChange.js'
import { holdAct } from './holdAct.js'
import { exitDue } from '../core/owner/keyExit.js'
import { type OwnerActPlan, planOwnerAct } from './planOwnerAct.js'
import { actClass, approveThreshold, governanceThreshold, isOwner, liveProposals, loneApprovals, quorumStep } from './quorum.js'
import { timeLockChange } from './timeLock.js'
import { type VerifiedOwnerAct, verifyOwnerAct } from './verifyOwnerAct.js'
import type { WalletChange } from './walletActChange.js'
import type { WalletRecord } from '../core/state/stateTypes.js'
import { BaseError } from '../shared/errors/base.js'
import { EnclaveError } from '../shared/errors/EnclaveError.js'
import type { ErrorCode } from '../shared/errors/errorCodes.js'
import type { GovernanceDecision } from '../shared/governance/decisionSchema.js'
import type { OwnerActView } from '../shared/governance/ownerActView.js'
import { OWNER_LIMITS, STATE_GROWING, checkLimit } from '../shared/owner/ownerLimits.js'
import { ownerActHash } from '../shared/owner/ownerActHash.js'
import { GovernanceSandbox, walletFromJson } from './GovernanceSandbox.js'

/** A placeholder for the address of a key the signer generates after the decision (CreateWallet). */
export const NEW_WALLET = `0x${'00'.repeat(20)}` as const
type Tx = { snapshot: boolean }
type Outcome = GovernanceDecision['outcome']
type Decided = Omit<GovernanceDecision, 'v' | 'viewHash'>

/**
 * Issue 12 (the governance split): decides one owner act as a pure function of the view the signer sent. Verifies
 * the owners' EIP-712 signature, checks the act's seq against the wallet's (stale, rolled back), applies due
 * loosenings and held acts, plans the act, runs the owners' quorum and time locks, and returns the changes and audit
 * entries in order, the key operation, and the result or refusal. SECURITY: acts on a wallet must carry seq =
 * ownerSeq + 1; lower is stale/replayed, higher proves a rollback. With several owners an act may only add a signature
 * (a proposal) until its class's threshold is met; a widening policy act then waits out the wallet's delay.
 */
export async function governOwnerAct(view: OwnerActView): Promise<Decided> {
  const wallet = view.wallet && walletFromJson(view.wallet)
  const missing = view.walletError ? new EnclaveError(view.walletError.code as ErrorCode, view.walletError.message) : new EnclaveError('wallet_not_found', `No wallet ${view.walletAddress} in this enclave`)
  const box = new GovernanceSandbox(wallet, missing)
  const decided = { wallet: view.walletAddress === null ? null : (view.walletAddress.toLowerCase() as `0x${string}`), ownerSeq: wallet?.ownerSeq ?? null, act: view.act.primaryType }
  let actHash: `0x${string}` | null = null
  let key: Decided['key'] = 'none'
  try {
    const act = await verifyOwnerAct(view.act)
    actHash = ownerActHash(act.primaryType, act.message as Record<string, unknown>)
    // SECURITY (gov36): a new wallet's nonce is remembered only in this chain's state; an act signed for another
    // enclave's chain (a replay at another pair, or a host's wrong chain) is refused here, before any check reads it.
    const chain = 'auditChain' in act.message ? act.message.auditChain.toLowerCase() : view.auditChain
    if (chain !== view.auditChain) throw new EnclaveError('owner_act_wrong_chain', `${act.primaryType} was signed for audit chain ${chain}; this enclave writes ${view.auditChain}`)
    // SECURITY: bounded state. A state-growing act is refused once the sealed state is half the frame limit, so
    // shrinking acts (freeze, revoke) always still fit (docs/security.md, "Bounded state").
    if (STATE_GROWING.has(act.primaryType)) {
      const size = view.snapshotBytes
      checkLimit(size <= OWNER_LIMITS.stateSoftBytes, 'stateSoftBytes', `The sealed state is ${size} bytes (limit ${OWNER_LIMITS.stateSoftBytes} for growing acts; freeze and revoke still work)`)
    }
    const tx: Tx = { snapshot: true }
    const now = view.now
    let outcome: Outcome
    if (act.primaryType === 'CreateWallet') {
      ;[key, outcome] = ['generate', applied(createWallet(box, view, act, now))]
    } else if (act.primaryType === 'ImportWallet') {
      const out = importWallet(box, view, wallet, act, now)
      ;[key, outcome] = [out.created ? 'import' : 'none', applied(out.result)]
    } else {
      if ((act.message.wallet as string).toLowerCase() !== decided.wallet) throw new EnclaveError('owner_act_invalid', 'The act names another wallet than the view')
      outcome = actOnWallet(box, view, box.wallet(act.message.wallet), act, tx, now, actHash)
      if (outcome.kind === 'applied' && 'exported' in outcome.result) key = 'export'
    }
    return { ...decided, actHash, key, steps: box.steps, outcome }
  } catch (err) {
    const error = err instanceof BaseError ? { code: err.code, message: err.shortMessage } : { code: 'internal_error' as const, message: 'Internal error' }
    const extra = err instanceof EnclaveError && Object.keys(err.extra).length ? { extra: err.extra as Record<string, string | number> } : {}
    return { ...decided, actHash, key: 'none', steps: box.steps, outcome: { kind: 'refused', error, ...extra } }
  }
}

const applied = (result: Record<string, unknown> & { wallet: string; ownerSeq: number }): Outcome => ({ kind: 'applied', result: result as never })

function actOnWallet(box: GovernanceSandbox, view: OwnerActView, wallet: WalletRecord, act: Exclude<VerifiedOwnerAct, { primaryType: 'CreateWallet' | 'ImportWallet' }>, tx: Tx, now: number, proposalHash: `0x${string}`): Outcome {
  const change = (c: WalletChange) => box.state.apply({ type: 'wallet_changed', wallet: wallet.address, change: c })
  // SECURITY: only the wallet's owners act on it (quorumStep checks again, with the class's threshold).
  if (!isOwner(wallet, act.signer)) throw new EnclaveError('owner_not_authorized', 'Signer is not an owner of this wallet')
  const seq = Number(act.message.seq) // exact: the schema bounds seq to [0, 2^53 - 1]
  if (seq <= wallet.ownerSeq) {
    throw new EnclaveError('owner_act_stale', `Owner act seq ${seq} is not newer than ${wallet.ownerSeq}`)
  }
  if (act.primaryType !== 'Resync' && (seq > wallet.ownerSeq + 1 || wallet.rolledBack)) {
    // SECURITY: the owner knows a newer state than ours: we were handed an old snapshot.
    if (!wallet.rolledBack) {
      box.state.apply({ type: 'owner_seq', wallet: wallet.address, ownerSeq: wallet.ownerSeq, rolledBack: true })
      box.appendInfo(tx, 'wallet_resynced', { wallet: wallet.address, rule: OWNER_RULE, verdict: 'deny', code: 'state_rollback_detected' })
      return { kind: 'failed', error: { code: 'state_rollback_detected', message: `Owner act seq ${seq} is ahead of this enclave's ${wallet.ownerSeq}: state was rolled back; signing stops until a Resync act` } }
    }
    throw new EnclaveError('wallet_rolled_back', 'This wallet was rolled back; sign a Resync act first')
  }
  // The act's effect is computed first (pure; a refusal changes nothing), then the owners' quorum decides whether it
  // applies now or waits for more signatures. Co-signers need not resend the policy text: the proposal keeps it.
  change({ type: 'scheduled_due', now })
  applyDueHeld(box, wallet, tx, now)
  const policyText = view.act.policy ?? liveProposals(wallet, now).find((x) => x.actHash === proposalHash)?.policy ?? undefined
  const plan = act.primaryType === 'Resync' ? null : planOwnerAct(wallet, act, policyText, now)
  const threshold = plan?.kind === 'exit' ? plan.out.threshold : (approveThreshold(wallet, act, now) ?? governanceThreshold(wallet, act))
  const q = quorumStep({ wallet, act, cls: actClass(act, (plan?.widens.length ?? 0) > 0), policyText: plan?.policyText ?? null, now, seq, threshold })
  if (!q.apply) {
    change({ type: 'governance_set', set: { proposals: q.proposals } })
    const reason = `${act.primaryType} signed by ${act.signer} (${q.proposal.signers.length} of ${q.proposal.threshold})`
    box.appendInfo(tx, 'owner_act_signed', { wallet: wallet.address, agentId: plan?.agentId ?? null, rule: OWNER_RULE, reason, requestId: proposalHash })
    const { actHash, primaryType, actClass: cls, signers, threshold, expiresAt } = q.proposal
    const proposal = { actHash, act: primaryType, actClass: cls, signers, threshold, expiresAt }
    return applied({ wallet: wallet.address, ownerSeq: wallet.ownerSeq, proposal })
  }
  if (act.primaryType === 'Resync') {
    box.state.apply({ type: 'owner_seq', wallet: wallet.address, ownerSeq: seq, rolledBack: false })
    change({ type: 'governance_set', set: { proposals: [] } })
    box.appendInfo(tx, 'wallet_resynced', { wallet: wallet.address, rule: OWNER_RULE })
    return applied({ wallet: wallet.address, ownerSeq: seq })
  }
  const lone = loneApprovals(wallet, act, threshold ?? 0, now) // read before the approval consumes the pending request
  const result = { wallet: wallet.address, ownerSeq: seq, ...applyPlan(box, wallet, plan!, tx, proposalHash, now) }
  if (lone) change({ type: 'governance_set', set: { loneApproved: lone } })
  // Only an applied act moves the seq: a refused one (it threw above) leaves no entry, no snapshot, no change. The
  // move ends every other open proposal (they were signed for this seq).
  box.state.apply({ type: 'owner_seq', wallet: wallet.address, ownerSeq: seq, rolledBack: false })
  change({ type: 'governance_set', set: { proposals: liveProposals(wallet, now) } })
  return applied(result)
}

/** CreateWallet's checks (core/owner/createWalletChange.ts) over the view's counts; the signer makes the key. */
function createWallet(box: GovernanceSandbox, view: OwnerActView, act: Extract<VerifiedOwnerAct, { primaryType: 'CreateWallet' }>, now: number, address: `0x${string}` = NEW_WALLET) {
  const c = view.create
  if (!c || c.ownerWallets > c.walletsTotal) throw new EnclaveError('owner_act_invalid', 'The view has no wallet counts')
  // scope38: the counts are of the owner and nonce the act names, at the window of the view's `now` (createWalletChange
  // checks the signer is that owner); the signer counts again at apply (createStillFits).
  const change = createWalletChange({ act, counts: () => c, now, newKey: () => ({ privateKey: new Uint8Array(0), address }) })
  box.state.apply(change)
  box.appendInfo({ snapshot: true }, 'wallet_created', { wallet: address, rule: OWNER_RULE })
  return { wallet: address as string, owner: change.wallet.owner, ownerSeq: 0 }
}

/**
 * ImportWallet's decision (the signer opened the sealed key with its import key and named its address in the view). A
 * new address becomes a new wallet (CreateWallet's checks: freshness, nonce, admission); an exported wallet of this
 * signer's owner set signs again (the act must be signed after its exit took effect, so an older import cannot be replayed).
 */
function importWallet(box: GovernanceSandbox, view: OwnerActView, existing: WalletRecord | null, act: Extract<VerifiedOwnerAct, { primaryType: 'ImportWallet' }>, now: number) {
  const { owner, label, nonce, issuedAt } = act.message
  const opened = view.imported
  if (!opened) throw new EnclaveError('owner_act_invalid', 'The view has no opened import key')
  if ('error' in opened) throw new EnclaveError(opened.error.code as ErrorCode, opened.error.message)
  const address = opened.address
  if (existing) {
    if (!isOwner(existing, act.signer)) throw new EnclaveError('owner_not_authorized', 'Signer is not an owner of this wallet')
    if (!exitDue(existing, now)) throw new EnclaveError('wallet_exists', `Wallet ${address} is in this enclave and not exported`)
    if (Number(issuedAt) <= existing.exit!.effectiveAt || Number(issuedAt) > now + 600_000) throw new EnclaveError('owner_act_stale', 'ImportWallet must be signed after the exit took effect')
    box.state.apply({ type: 'wallet_changed', wallet: existing.address, change: { type: 'governance_set', set: { exit: undefined } } })
    box.appendInfo({ snapshot: true }, 'wallet_imported', { wallet: existing.address, rule: OWNER_RULE, reason: 're-imported after the owners’ exit: it signs again' })
    return { created: false, result: { wallet: existing.address as string, owner: existing.owner, ownerSeq: existing.ownerSeq } }
  }
  const created = { primaryType: 'CreateWallet' as const, signer: act.signer, message: { owner, label, nonce, issuedAt, auditChain: act.message.auditChain } }
  const box2 = new GovernanceSandbox(null, new EnclaveError('wallet_not_found', 'no wallet'))
  const result = createWallet(box2, view, created, now, address)
  box.steps.push(...box2.steps.filter((s) => s.type !== 'audit'))
  box.appendInfo({ snapshot: true }, 'wallet_imported', { wallet: address, rule: OWNER_RULE, reason: 'a new wallet from an imported key' })
  return { created: true, result }
}

/** Applies a planned act through the sandbox (recorded as the decision's steps) and audits it. */
function applyPlan(box: GovernanceSandbox, wallet: WalletRecord, plan: OwnerActPlan, tx: Tx, actHash: `0x${string}`, now: number): Record<string, unknown> {
  const change = (c: WalletChange) => box.state.apply({ type: 'wallet_changed', wallet: wallet.address, change: c })
  if (plan.kind === 'exit') {
    const exit = { ...(plan.out.exit ?? wallet.exit!), ...(plan.out.collect ? { collectedAt: now } : {}) }
    change({ type: 'governance_set', set: { exit } })
    const reason = `wallet key sealed to X25519 key ${exit.recipientKey}; the wallet signs nothing from ${new Date(exit.effectiveAt).toISOString()} unless re-imported`
    box.appendInfo(tx, plan.out.collect ? 'wallet_exported' : 'export_scheduled', { wallet: wallet.address, agentId: null, rule: OWNER_RULE, reason, requestId: exit.actHash })
    // The signer seals the key to the recipient (`exported`, key operation `export`): governance never holds it.
    return plan.out.collect ? { exported: null } : { scheduled: { actHash: exit.actHash, effectiveAt: exit.effectiveAt, widens: ['key exit'] } }
  }
  const base = { wallet: wallet.address, agentId: plan.out.agentId, rule: OWNER_RULE }
  if (plan.kind === 'ledger') {
    const held = holdAct(wallet, plan.act, actHash, now)
    if (held) {
      change({ type: 'governance_set', set: { held: [...(wallet.held ?? []), held] } })
      const reason = `${plan.act.primaryType} takes effect ${new Date(held.effectiveAt).toISOString()} unless an owner cancels`
      box.appendInfo(tx, 'act_scheduled', { ...base, reason, requestId: actHash })
      return { ...plan.out.result, scheduled: { actHash, effectiveAt: held.effectiveAt, widens: [plan.act.primaryType] } }
    }
    box.state.apply({ type: 'ledger', wallet: wallet.address, events: plan.out.events })
    // A freeze also cancels the agent's loosenings still waiting out the delay.
    if (plan.out.event === 'agent_frozen') change({ type: 'scheduled_cancelled', agentId: plan.out.agentId! })
    box.appendInfo(tx, plan.out.event, { ...base, ledger: plan.out.events })
    return plan.out.result
  }
  const c = timeLockChange(wallet, plan.out.change, plan.widens, actHash, now)
  change(c)
  if (c.type !== 'scheduled') {
    box.appendInfo(tx, plan.out.event, { ...base, policy: plan.out.policy })
    return plan.out.result
  }
  const { effectiveAt, widens } = c.item
  const reason = `takes effect ${new Date(effectiveAt).toISOString()} unless an owner cancels; widens ${widens.join(', ')}`.slice(0, 280)
  box.appendInfo(tx, 'policy_scheduled', { ...base, policy: plan.out.policy, reason, requestId: actHash })
  return { ...plan.out.result, scheduled: { actHash, effectiveAt, widens } }
}
