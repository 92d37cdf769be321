/**
 * TRUST: the agent hot path. Untrusted work runs before the single writer —
 * authentication, freshness and replay, decoding (bounded by the typed-data
 * limits) — so one request cannot hold up another wallet's. The writer only
 * evaluates → counts → plans the signature → audits, in one synchronous step,
 * so budget accounting is exact under any concurrency.
 */
import type { AuditEvent } from '../../shared/audit/auditEntry.js'
import { EnclaveError } from '../../shared/errors/EnclaveError.js'
import type { AgentDryRunResult, WireError } from '../../shared/protocol/messages.js'
import { type AgentRequest, REQUEST_MAX_LIFETIME_MS } from '../../shared/schemas/agentRequest.js'
import type { DecodedAction } from '../../shared/schemas/decodedAction.js'
import { decodeSignRequest } from '../../core/decode/decodeSignRequest.js'
import { signPlan } from '../sign/signPlan.js'
import type { DecodeResult } from '../../core/decode/signingPlan.js'
import { bindAction } from '../../core/kinds/kindTable.js'
import type { LedgerEvent } from '../../core/ledger/LedgerEvent.js'
import { decidePolicy } from '../../core/policy/decidePolicy.js'
import { cachedPolicy, dryRunResult, requestGate } from '../../core/policy/requestGate.js'
import type { Enclave, PendingPersist, Tx } from '../Enclave.js'
import { applyDueHeld, applyEvents } from '../owner/ledgerOps.js'
import type { HandlerResult } from '../protocol/HandlerResult.js'
import type { SignPlanReturnType } from '../sign/signPlan.js'
import type { AgentRecord, PolicyRecord, WalletView } from '../../core/state/stateTypes.js'
import { policyAt } from '../../core/owner/policyAt.js'
import { verifyAgentRequest } from './verifyAgentRequest.js'

/** Authenticates and decodes outside the writer, then decides, counts and audits inside it; signs off the writer thread. */
export async function handleAgentSign(enclave: Enclave, req: { request: string; signature: string }): Promise<HandlerResult<'agentSign'>> {
  const { request, wallet, agent } = verifyAgentRequest(enclave, req.request, req.signature)
  checkFreshness(enclave, agent.agentId, request, !enclave.carried.has(wallet.address.toLowerCase()))
  // SECURITY: decoding is bounded (typed-data limits) and runs before the queue against the current policy;
  // the writer re-decodes only if the policy changed while this request waited.
  const prepared = prepare(request, wallet, agent, enclave.now())
  const decided = await enclave.queue.run(() => decide(enclave, request, wallet, agent, prepared))
  // A dry run changes nothing itself, but held acts it found due applied in the writer: their block leaves with it.
  if ('dryRun' in decided) return { ok: true, result: decided.dryRun, ...(decided.pending && { persist: await enclave.completeTx(decided.pending) }) }
  // Outside the writer: the checkpoint at this answer's own entry, and the signature (a rejection if signing threw).
  const [persist, signed] = await Promise.all([enclave.completeTx(decided.pending), 'signing' in decided ? decided.signing.catch((e: Error) => e) : null])
  if ('error' in decided) return { ok: false, error: decided.error, persist }
  if (!signed || signed instanceof Error) {
    return { ok: false, error: { code: 'internal_error', message: 'Signing failed; the request was counted and audited' }, persist }
  }
  return {
    ok: true,
    result: {
      signature: signed.signature,
      signedHash: signed.signedHash,
      ...(signed.serializedTransaction ? { serializedTransaction: signed.serializedTransaction } : {}),
      // persist holds this request's entry, so it carries a checkpoint at it (completeTx signs each block's last entry).
      receipt: { ...decided.receipt, checkpoint: persist.checkpoint! },
    },
    persist,
  }
}

/** Replay, staleness and clock checks, before the queue: a request never goes stale waiting behind others. */
function checkFreshness(enclave: Enclave, agentId: string, r: AgentRequest, floor: boolean): void {
  const now = enclave.now()
  // The deadline is covered by the agent's signature and may not outlive the replay window (so a decided request's
  // nonce is still remembered whenever it could still be signed).
  if (r.expiresAt <= r.issuedAt || r.expiresAt > r.issuedAt + REQUEST_MAX_LIFETIME_MS) {
    throw new EnclaveError('request_deadline_invalid', `expiresAt must be after issuedAt and at most ${REQUEST_MAX_LIFETIME_MS} ms after it`)
  }
  enclave.replay.admit(agentId, r.nonce, r.issuedAt, now, floor)
}

type Prepared = { policyHash: string | null; decoded: DecodeResult | null }

function prepare(r: AgentRequest, wallet: WalletView, agent: Readonly<AgentRecord>, now: number): Prepared {
  const rec = policyAt(wallet, agent.agentId, now)
  if (!rec || rec.revoked) return { policyHash: null, decoded: null }
  const policy = cachedPolicy(rec)
  return { policyHash: rec.hash, decoded: decodeSignRequest({ request: r, wallet: wallet.address, registry: policy.tokens }) }
}

type Decided =
  | { dryRun: AgentDryRunResult; pending?: PendingPersist | undefined }
  | { error: WireError; pending: PendingPersist }
  | { receipt: { seq: number; walletSeq?: number; entryHash: string; stateVersion: number }; pending: PendingPersist; signing: Promise<SignPlanReturnType> }
type Base = { wallet: WalletView; agent: Readonly<AgentRecord>; r: AgentRequest; rec: Readonly<PolicyRecord> | undefined; tx: Tx }

async function decide(enclave: Enclave, r: AgentRequest, wallet: WalletView, authed: Readonly<AgentRecord>, pre: Prepared): Promise<Decided> {
  // SECURITY: a request queued before a halt (a broken invariant) is not decided on the state that broke it.
  if (enclave.phase !== 'ready') throw new EnclaveError('enclave_halted', 'Enclave halted on a broken invariant')
  // Issue 15 step 3: a drop (or a drop and a reload) while this request waited: it is not decided on the old record.
  if (enclave.wallet(wallet.address) !== wallet) throw new EnclaveError('wallet_not_loaded', 'This enclave dropped the wallet while the request waited')
  const now = enclave.now()
  // SECURITY: the writer reads the live agent record (an owner act may have revoked it while this request waited).
  const agent = wallet.agents.get(authed.agentId) ?? authed
  const tx = enclave.beginTx()
  // Unfreezes, permits and credits the owners accepted count once their time lock has passed.
  applyDueHeld(enclave, wallet, tx, now)
  // The policy in force now: a widening the owners scheduled counts only once its delay has passed.
  const rec = policyAt(wallet, agent.agentId, now)
  const base = { wallet, agent, r, rec, tx }
  const gated = requestGate(r, wallet, agent, rec, now)
  if (gated || !rec) return refuse(enclave, base, null, [], gated!) // requestGate refuses whenever rec is missing
  const policy = cachedPolicy(rec)
  const decoded =
    pre.policyHash === rec.hash && pre.decoded ? pre.decoded : decodeSignRequest({ request: r, wallet: wallet.address, registry: policy.tokens })
  if (!decoded.ok) {
    const events: LedgerEvent[] = [
      { type: 'request', agentId: agent.agentId, at: now },
      { type: 'denial', agentId: agent.agentId, code: decoded.code.slice(0, 64), at: now },
    ]
    return refuse(enclave, base, null, events, { code: decoded.code, message: decoded.message })
  }
  // In the writer: fields that depend on what was already signed (a batch voucher's highest signed total).
  const action = bindAction(decoded.action, wallet.ledger)
  const verdict = decidePolicy({
    policy,
    action,
    context: { resourceUrl: r.context?.resourceUrl, reason: r.context?.reason },
    agentId: agent.agentId,
    ledger: wallet.ledger,
    now,
    ...(r.permitId ? { permitId: r.permitId } : {}),
    walletPolicy: cachedPolicy(policyAt(wallet, null, now), true),
  })
  if (r.dryRun) return { dryRun: dryRunResult(action, verdict), pending: await heldBlock(enclave, tx) }
  if (verdict.verdict === 'deny') {
    const error: WireError = { code: verdict.code, message: verdict.message, rule: verdict.rule }
    if (verdict.remaining !== undefined) error.remaining = verdict.remaining
    return refuse(enclave, base, action, verdict.events, error)
  }
  if (verdict.verdict === 'pending') {
    // The verdict names the pending request whether it was created now or earlier (asking again returns the same id).
    const error: WireError = { code: 'approval_pending', message: verdict.message, rule: verdict.rule, pendingId: verdict.pendingId }
    return refuse(enclave, base, action, verdict.events, error, 'sign_pending', 'pending')
  }
  // SECURITY: count the spend and audit the exact digest in this synchronous step; the signature over that
  // digest is made off the writer thread (a failed signing leaves budget counted, never the reverse).
  applyEvents(enclave, wallet, verdict.events, true) // the core's events: no parse (coreEventsFitReplay.test.ts)
  const { entry, hash } = enclave.appendEntry(tx, {
    ...entryFields(base, action),
    event: 'sign_allowed',
    verdict: 'allow',
    rule: verdict.rule,
    code: null,
    signedHash: decoded.plan.digest,
    ledger: verdict.events,
  }, true) // built from checked values: no second schema parse (signedEntryNeedsNoParse.test.ts)
  // Inline, in this writer turn: libsecp256k1 signs in ~40 µs, less than a worker round trip costs (docs/bench.md).
  const signing = new Promise<SignPlanReturnType>((resolve) => resolve(signPlan({ privateKey: wallet.privateKey, plan: decoded.plan })))
  signing.catch(() => {}) // awaited by the caller; never an unhandled rejection
  const stateVersion = enclave.state.version
  const pending = await enclave.sealTx(tx)
  return { receipt: { seq: entry.seq, walletSeq: entry.walletSeq, entryHash: hash, stateVersion }, pending, signing }
}

async function refuse(
  enclave: Enclave,
  base: Base,
  action: DecodedAction | null,
  events: LedgerEvent[],
  error: WireError,
  event: AuditEvent = 'sign_denied',
  verdict: 'deny' | 'pending' = 'deny',
): Promise<Decided> {
  // A dry run reaches here only before a verdict (nothing decoded to describe): deny, with no spends.
  if (base.r.dryRun) return { dryRun: { dryRun: true, verdict: 'deny', code: error.code, message: error.message, spends: [] }, pending: await heldBlock(enclave, base.tx) }
  applyEvents(enclave, base.wallet, events, true)
  enclave.appendEntry(base.tx, {
    ...entryFields(base, action),
    event,
    verdict,
    rule: error.rule ?? null,
    code: error.code,
    signedHash: null,
    ledger: events,
  })
  return { error, pending: await enclave.sealTx(base.tx) }
}

/**
 * SECURITY (rt34a): the held acts a dry run found due (applyDueHeld) changed state and appended audit entries; they
 * are sealed and stored like any block, else the host's log has a hole the next load refuses.
 */
async function heldBlock(enclave: Enclave, tx: Tx): Promise<PendingPersist | undefined> {
  return tx.entries.length > 0 || tx.snapshot ? enclave.sealTx(tx) : undefined
}

function entryFields(base: Base, action: DecodedAction | null) {
  const url = base.r.context?.resourceUrl
  return {
    wallet: base.wallet.address,
    agentId: base.agent.agentId,
    action,
    ...(url ? { resourceUrl: url } : {}),
    reason: base.r.context?.reason ?? null,
    policy: base.rec ? { version: base.rec.version, hash: base.rec.hash } : null,
    requestId: base.r.nonce,
  }
}
