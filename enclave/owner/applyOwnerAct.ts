import { EnclaveError } from '../../shared/errors/EnclaveError.js'
import type { HandlerResult } from '../protocol/HandlerResult.js'
import type { Enclave } from '../Enclave.js'
import { generateSignerKey } from '../sign/generateSignerKey.js'
import type { WalletView } from '../../core/state/stateTypes.js'
import { OWNER_RULE } from '../state/loadState.js'
import { OWNER_LIMITS, checkLimit } from '../../shared/owner/ownerLimits.js'
import { createWalletChange } from '../../core/owner/createWalletChange.js'
import { actClass, approveThreshold, governanceThreshold, isOwner, liveProposals, loneApprovals, quorumStep } from '../../core/owner/quorum.js'
import { makeOwnerReceipt, ownerActHash } from '../../shared/owner/ownerReceipt.js'
import { applyDueHeld, applyEvents } from './ledgerOps.js'
import { holdAct } from '../../core/owner/heldActs.js'
import { type OwnerActPlan, STATE_GROWING, planOwnerAct } from '../../core/owner/planOwnerAct.js'
import type { WalletChange } from '../../core/owner/walletActChange.js'
import { timeLockChange } from '../../core/owner/timeLock.js'
import { exportSealedKey, importWallet } from './keyExitShell.js'
import { type VerifiedOwnerAct, verifyOwnerAct } from '../../core/owner/verifyOwnerAct.js'

export type OwnerActParameters = { primaryType: string; message: string; signature: string; policy?: string | undefined }

/**
 * Applies one owner act inside the enclave's single writer. Every act is
 * audited and followed by a snapshot. SECURITY: acts on a wallet must carry
 * seq = ownerSeq + 1; lower is stale/replayed, higher proves a rollback. With
 * several owners an act may only add a signature (a proposal) until its class's
 * threshold is met; a widening policy act then waits out the wallet's delay.
 */
export async function applyOwnerAct(
  enclave: Enclave,
  params: OwnerActParameters,
): Promise<HandlerResult<'ownerAct'>> {
  const act = await verifyOwnerAct(params)
  // SECURITY: bounded state. A state-growing act is refused once the sealed state is half the frame limit, so
  // shrinking acts (freeze, revoke) always still fit (docs/security.md, "Bounded state").
  if (STATE_GROWING.has(act.primaryType)) {
    const size = enclave.lastSnapshotBytes
    checkLimit(size <= OWNER_LIMITS.stateSoftBytes, 'stateSoftBytes', `The sealed state is ${size} bytes (limit ${OWNER_LIMITS.stateSoftBytes} for growing acts; freeze and revoke still work)`)
  }
  const tx = enclave.beginTx()
  tx.snapshot = true
  let result: Record<string, unknown> & { wallet: string; ownerSeq: number }
  if (act.primaryType === 'CreateWallet') {
    result = createWallet(enclave, act, tx)
  } else if (act.primaryType === 'ImportWallet') {
    result = importWallet(enclave, act, tx)
  } else {
    const wallet = enclave.state.wallet(act.message.wallet)
    const change = (c: WalletChange) => enclave.state.apply({ type: 'wallet_changed', wallet: wallet.address, change: c })
    // SECURITY: only the wallet's owners act on it (quorumStep checks again, with the class's threshold).
    if (!isOwner(wallet, act.signer)) throw new EnclaveError('owner_not_authorized', 'Signer is not an owner of this wallet')
    const seq = Number(act.message.seq) // exact: the schema bounds seq to [0, 2^53 - 1]
    if (seq <= wallet.ownerSeq) {
      throw new EnclaveError('owner_act_stale', `Owner act seq ${seq} is not newer than ${wallet.ownerSeq}`)
    }
    if (act.primaryType !== 'Resync' && (seq > wallet.ownerSeq + 1 || wallet.rolledBack)) {
      // SECURITY: the owner knows a newer state than ours: we were handed an old snapshot.
      if (!wallet.rolledBack) {
        enclave.state.apply({ type: 'owner_seq', wallet: wallet.address, ownerSeq: wallet.ownerSeq, rolledBack: true })
        enclave.appendInfo(tx, 'wallet_resynced', { wallet: wallet.address, rule: OWNER_RULE, verdict: 'deny', code: 'state_rollback_detected' })
        const error = { code: 'state_rollback_detected', message: `Owner act seq ${seq} is ahead of this enclave's ${wallet.ownerSeq}: state was rolled back; signing stops until a Resync act` }
        return { ok: false, error, persist: await enclave.finishTx(tx) }
      }
      throw new EnclaveError('wallet_rolled_back', 'This wallet was rolled back; sign a Resync act first')
    }
    // The act's effect is computed first (pure; a refusal changes nothing), then the owners' quorum decides whether it
    // applies now or waits for more signatures. Co-signers need not resend the policy text: the proposal keeps it.
    const now = enclave.now()
    change({ type: 'scheduled_due', now })
    applyDueHeld(enclave, wallet, tx, now)
    const proposalHash = ownerActHash(act.primaryType, act.message as Record<string, unknown>)
    const policyText = params.policy ?? liveProposals(wallet, now).find((x) => x.actHash === proposalHash)?.policy ?? undefined
    const plan = act.primaryType === 'Resync' ? null : planOwnerAct(wallet, act, policyText, now)
    const threshold = plan?.kind === 'exit' ? plan.out.threshold : (approveThreshold(wallet, act, now) ?? governanceThreshold(wallet, act))
    const q = quorumStep({ wallet, act, cls: actClass(act, (plan?.widens.length ?? 0) > 0), policyText: plan?.policyText ?? null, now, seq, threshold })
    if (!q.apply) {
      change({ type: 'governance_set', set: { proposals: q.proposals } })
      const reason = `${act.primaryType} signed by ${act.signer} (${q.proposal.signers.length} of ${q.proposal.threshold})`
      enclave.appendInfo(tx, 'owner_act_signed', { wallet: wallet.address, agentId: plan?.agentId ?? null, rule: OWNER_RULE, reason, requestId: proposalHash })
      const persist = await enclave.finishTx(tx)
      const { actHash, primaryType, actClass: cls, signers, threshold, expiresAt } = q.proposal
      const proposal = { actHash, act: primaryType, actClass: cls, signers, threshold, expiresAt }
      return { ok: true, result: { wallet: wallet.address, ownerSeq: wallet.ownerSeq, proposal, receipt: signOwnerReceipt(enclave, act, wallet.address, wallet.ownerSeq) }, persist }
    }
    if (act.primaryType === 'Resync') {
      enclave.state.apply({ type: 'owner_seq', wallet: wallet.address, ownerSeq: seq, rolledBack: false })
      change({ type: 'governance_set', set: { proposals: [] } })
      enclave.appendInfo(tx, 'wallet_resynced', { wallet: wallet.address, rule: OWNER_RULE })
      const persist = await enclave.finishTx(tx)
      return { ok: true, result: { wallet: wallet.address, ownerSeq: seq, receipt: signOwnerReceipt(enclave, act, wallet.address, seq) }, persist }
    }
    const lone = loneApprovals(wallet, act, threshold ?? 0, now) // read before the approval consumes the pending request
    result = { wallet: wallet.address, ownerSeq: seq, ...applyPlan(enclave, wallet, plan!, tx, proposalHash, now) }
    if (lone) change({ type: 'governance_set', set: { loneApproved: lone } })
    // Only an applied act moves the seq: a refused one (it threw above) leaves no entry, no snapshot, no change. The
    // move ends every other open proposal (they were signed for this seq).
    enclave.state.apply({ type: 'owner_seq', wallet: wallet.address, ownerSeq: seq, rolledBack: false })
    change({ type: 'governance_set', set: { proposals: liveProposals(wallet, now) } })
  }
  const persist = await enclave.finishTx(tx)
  return { ok: true, result: { ...result, receipt: signOwnerReceipt(enclave, act, result.wallet, result.ownerSeq) }, persist }
}

function createWallet(enclave: Enclave, act: Extract<VerifiedOwnerAct, { primaryType: 'CreateWallet' }>, tx: ReturnType<Enclave['beginTx']>) {
  const { wallets, createNonces } = enclave.state
  const change = createWalletChange({ act, wallets, createNonces, admission: enclave.params.admission, now: enclave.now(), newKey: generateSignerKey })
  enclave.state.apply(change)
  enclave.appendInfo(tx, 'wallet_created', { wallet: change.wallet.address, rule: OWNER_RULE })
  return { wallet: change.wallet.address as string, owner: change.wallet.owner, ownerSeq: 0 }
}

/** Applies a planned act through the state's one mutator and audits it. */
function applyPlan(enclave: Enclave, wallet: WalletView, plan: OwnerActPlan, tx: ReturnType<Enclave['beginTx']>, actHash: `0x${string}`, now: number): Record<string, unknown> {
  const change = (c: WalletChange) => enclave.state.apply({ type: 'wallet_changed', wallet: wallet.address, change: c })
  if (plan.kind === 'exit') {
    const exit = { ...(plan.out.exit ?? wallet.exit!), ...(plan.out.collect ? { collectedAt: now } : {}) }
    change({ type: 'governance_set', set: { exit } })
    const reason = `wallet key sealed to X25519 key ${exit.recipientKey}; the wallet signs nothing from ${new Date(exit.effectiveAt).toISOString()} unless re-imported`
    enclave.appendInfo(tx, plan.out.collect ? 'wallet_exported' : 'export_scheduled', { wallet: wallet.address, agentId: null, rule: OWNER_RULE, reason, requestId: exit.actHash })
    return plan.out.collect ? { exported: exportSealedKey(wallet, exit) } : { scheduled: { actHash: exit.actHash, effectiveAt: exit.effectiveAt, widens: ['key exit'] } }
  }
  const base = { wallet: wallet.address, agentId: plan.out.agentId, rule: OWNER_RULE }
  if (plan.kind === 'ledger') {
    const held = holdAct(wallet, plan.act, actHash, now)
    if (held) {
      change({ type: 'governance_set', set: { held: [...(wallet.held ?? []), held] } })
      const reason = `${plan.act.primaryType} takes effect ${new Date(held.effectiveAt).toISOString()} unless an owner cancels`
      enclave.appendInfo(tx, 'act_scheduled', { ...base, reason, requestId: actHash })
      return { ...plan.out.result, scheduled: { actHash, effectiveAt: held.effectiveAt, widens: [plan.act.primaryType] } }
    }
    applyEvents(enclave, wallet, plan.out.events)
    // A freeze also cancels the agent's loosenings still waiting out the delay.
    if (plan.out.event === 'agent_frozen') change({ type: 'scheduled_cancelled', agentId: plan.out.agentId! })
    enclave.appendInfo(tx, plan.out.event, { ...base, ledger: plan.out.events })
    return plan.out.result
  }
  const c = timeLockChange(wallet, plan.out.change, plan.widens, actHash, now)
  change(c)
  if (c.type !== 'scheduled') {
    enclave.appendInfo(tx, plan.out.event, { ...base, policy: plan.out.policy })
    return plan.out.result
  }
  const { effectiveAt, widens } = c.item
  const reason = `takes effect ${new Date(effectiveAt).toISOString()} unless an owner cancels; widens ${widens.join(', ')}`.slice(0, 280)
  enclave.appendInfo(tx, 'policy_scheduled', { ...base, policy: plan.out.policy, reason, requestId: actHash })
  return { ...plan.out.result, scheduled: { actHash, effectiveAt, widens } }
}

/**
 * SECURITY: the receipt of an applied act, signed by the attested receipt key after its snapshot is sealed; owner
 * tools keep it as a high-water mark (rollback) and as proof the act reached the enclave.
 */
function signOwnerReceipt(enclave: Enclave, act: VerifiedOwnerAct, wallet: string, ownerSeq: number) {
  const head = enclave.audit.head()
  const actHash = ownerActHash(act.primaryType, act.message as Record<string, unknown>)
  const body = { v: 1 as const, act: act.primaryType, actHash, wallet: wallet.toLowerCase(), ownerSeq, stateVersion: enclave.state.version, auditHead: head, ...(enclave.audit.chain && { chain: enclave.audit.chain }), time: enclave.now() }
  return makeOwnerReceipt(body, enclave.receiptSigner)
}
