import { EnclaveError } from '../../shared/errors/EnclaveError.js'
import type { HandlerResult } from '../protocol/HandlerResult.js'
import type { Enclave } from '../Enclave.js'
import { generateSignerKey } from '../sign/generateSignerKey.js'
import type { WalletView } from '../../core/state/stateTypes.js'
import { OWNER_RULE } from '../state/loadState.js'
import { OWNER_LIMITS, checkLimit } from '../../shared/owner/ownerLimits.js'
import { createWalletChange } from '../../core/owner/createWalletChange.js'
import { walletActChange } from '../../core/owner/walletActChange.js'
import { makeOwnerReceipt, ownerActHash } from '../../shared/owner/ownerReceipt.js'
import { ledgerOwnerAct } from './ledgerOps.js'
import { type VerifiedOwnerAct, verifyOwnerAct } from '../../core/owner/verifyOwnerAct.js'

export type OwnerActParameters = { primaryType: string; message: string; signature: string; policy?: string | undefined }

/**
 * Applies one owner act inside the enclave's single writer. Every act is
 * audited and followed by a snapshot. SECURITY: acts on a wallet must carry
 * seq = ownerSeq + 1; lower is stale/replayed, higher proves a rollback.
 */
export async function applyOwnerAct(
  enclave: Enclave,
  params: OwnerActParameters,
): Promise<HandlerResult> {
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
  } else {
    const wallet = enclave.wallet(act.message.wallet)
    // SECURITY: only the wallet's owner acts on it.
    if (act.signer.toLowerCase() !== wallet.owner.toLowerCase()) {
      throw new EnclaveError('owner_not_authorized', 'Signer is not the owner of this wallet')
    }
    const seq = Number(act.message.seq) // exact: the schema bounds seq to [0, 2^53 - 1]
    if (seq <= wallet.ownerSeq) {
      throw new EnclaveError('owner_act_stale', `Owner act seq ${seq} is not newer than ${wallet.ownerSeq}`)
    }
    if (act.primaryType === 'Resync') {
      enclave.state.apply({ type: 'owner_seq', wallet: wallet.address, ownerSeq: seq, rolledBack: false })
      enclave.appendInfo(tx, 'wallet_resynced', { wallet: wallet.address, rule: OWNER_RULE })
      const persist = await enclave.finishTx(tx)
      return { ok: true, result: { wallet: wallet.address, ownerSeq: seq, receipt: signOwnerReceipt(enclave, act, wallet.address, seq) }, persist }
    }
    if (seq > wallet.ownerSeq + 1 || wallet.rolledBack) {
      // SECURITY: the owner knows a newer state than ours: we were handed an old snapshot.
      if (!wallet.rolledBack) {
        enclave.state.apply({ type: 'owner_seq', wallet: wallet.address, ownerSeq: wallet.ownerSeq, rolledBack: true })
        enclave.appendInfo(tx, 'wallet_resynced', { wallet: wallet.address, rule: OWNER_RULE, verdict: 'deny', code: 'state_rollback_detected' })
        const error = { code: 'state_rollback_detected', message: `Owner act seq ${seq} is ahead of this enclave's ${wallet.ownerSeq}: state was rolled back; signing stops until a Resync act` }
        return { ok: false, error, persist: await enclave.finishTx(tx) }
      }
      throw new EnclaveError('wallet_rolled_back', 'This wallet was rolled back; sign a Resync act first')
    }
    result = applyWalletAct(enclave, wallet, act, params.policy, tx, seq)
    // Only an applied act moves the seq: a refused one (it threw above) leaves no entry, no snapshot, no change.
    enclave.state.apply({ type: 'owner_seq', wallet: wallet.address, ownerSeq: seq, rolledBack: false })
  }
  const persist = await enclave.finishTx(tx)
  return { ok: true, result: { ...result, receipt: signOwnerReceipt(enclave, act, result.wallet, result.ownerSeq) }, persist }
}

/** Acts that add records to the sealed state (the others replace or remove). */
const STATE_GROWING: ReadonlySet<string> = new Set(['CreateWallet', 'RegisterAgent', 'SetPolicy', 'IssuePermit', 'CreditBudget'])

function createWallet(enclave: Enclave, act: Extract<VerifiedOwnerAct, { primaryType: 'CreateWallet' }>, tx: ReturnType<Enclave['beginTx']>) {
  const { wallets, createNonces } = enclave.state
  const change = createWalletChange({ act, wallets, createNonces, admission: enclave.params.admission, now: enclave.now(), newKey: generateSignerKey })
  enclave.state.apply(change)
  enclave.appendInfo(tx, 'wallet_created', { wallet: change.wallet.address, rule: OWNER_RULE })
  return { wallet: change.wallet.address as string, owner: change.wallet.owner, ownerSeq: 0 }
}

function applyWalletAct(
  enclave: Enclave,
  wallet: WalletView,
  act: Exclude<VerifiedOwnerAct, { primaryType: 'CreateWallet' | 'Resync' }>,
  policyText: string | undefined,
  tx: ReturnType<Enclave['beginTx']>,
  seq: number,
): Record<string, unknown> & { wallet: string; ownerSeq: number } {
  const base = { wallet: wallet.address, ownerSeq: seq }
  switch (act.primaryType) {
    case 'RegisterAgent':
    case 'SetPolicy':
    case 'RevokePolicy':
    case 'RevokeAgent': {
      const out = walletActChange({ wallet, act, policyText, now: enclave.now() })
      enclave.state.apply({ type: 'wallet_changed', wallet: wallet.address, change: out.change })
      enclave.appendInfo(tx, out.event, { wallet: wallet.address, agentId: out.agentId, policy: out.policy, rule: OWNER_RULE })
      return { ...base, ...out.result }
    }
    default: {
      const out = ledgerOwnerAct(enclave, wallet, act)
      enclave.appendInfo(tx, out.event, { wallet: wallet.address, agentId: out.agentId, ledger: out.events, rule: OWNER_RULE })
      return { ...base, ...out.result }
    }
  }
}

/**
 * SECURITY: the receipt of an applied act, signed by the attested receipt key after its snapshot is sealed; owner
 * tools keep it as a high-water mark (rollback) and as proof the act reached the enclave.
 */
function signOwnerReceipt(enclave: Enclave, act: VerifiedOwnerAct, wallet: string, ownerSeq: number) {
  const head = enclave.audit.head()
  const actHash = ownerActHash(act.primaryType, act.message as Record<string, unknown>)
  const body = { v: 1 as const, act: act.primaryType, actHash, wallet: wallet.toLowerCase(), ownerSeq, stateVersion: enclave.state.version, auditHead: head, time: enclave.now() }
  return makeOwnerReceipt(body, enclave.receiptSigner)
}
