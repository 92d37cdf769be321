import type { AuditEvent } from '../../shared/audit/auditEntry.js'
import { EnclaveError } from '../../shared/errors/EnclaveError.js'
import { approvalDigest, approvalSummary } from '../../shared/owner/approvalSummary.js'
import type { AgentRequest } from '../../shared/schemas/agentRequest.js'
import type { DecodedAction } from '../../shared/schemas/decodedAction.js'
import { type Policy, parsePolicy } from '../../shared/schemas/policy.js'
import type { WireError } from '../../shared/protocol/messages.js'
import type { Enclave, PendingPersist, Tx } from '../Enclave.js'
import type { LedgerEvent } from '../../core/ledger/LedgerEvent.js'
import { applyEvents, ledgerOf } from '../owner/ledgerOps.js'
import { evaluatePolicy } from '../../core/policy/evaluatePolicy.js'
import type { HandlerResult } from '../protocol/HandlerResult.js'
import { decodeSignRequest } from '../sign/decodeSignRequest.js'
import type { SignPlanReturnType } from '../sign/signPlan.js'
import type { AgentRecord, PolicyRecord, WalletRecord } from '../state/stateTypes.js'
import { verifyAgentRequest } from './verifyAgentRequest.js'

const policyCache = new Map<string, Policy>()

/**
 * The hot path: authenticate → replay check → decode what is to be signed →
 * policy → sign → ledger → audit, all inside the single writer so budget
 * accounting is exact under any concurrency. SECURITY: budget is counted in
 * the same synchronous step that produces the signature.
 */
export async function handleAgentSign(enclave: Enclave, req: { request: string; signature: string }): Promise<HandlerResult> {
  const { request, wallet, agent } = verifyAgentRequest(enclave, req.request, req.signature)
  const decided = await enclave.queue.run(() => decide(enclave, request, wallet, agent))
  // Outside the writer: the (batched) checkpoint covering this entry, and the signature from the signer pool.
  const [persist, signed] = await Promise.all([enclave.completeTx(decided.pending), decided.signing?.catch((e: Error) => e)])
  if (!decided.res.ok) return { ...decided.res, persist }
  if (!signed || signed instanceof Error) {
    return { ok: false, error: { code: 'internal_error', message: 'Signing failed; the request was counted and audited' }, persist }
  }
  const result = decided.res.result as { receipt: Record<string, unknown> }
  return {
    ok: true,
    result: {
      signature: signed.signature,
      signedHash: signed.signedHash,
      ...(signed.serializedTransaction ? { serializedTransaction: signed.serializedTransaction } : {}),
      receipt: { ...result.receipt, checkpoint: persist.checkpoint },
    },
    persist,
  }
}

type Decided = { res: HandlerResult; pending: PendingPersist; signing?: Promise<SignPlanReturnType> }

async function decide(enclave: Enclave, r: AgentRequest, wallet: WalletRecord, agent: AgentRecord): Promise<Decided> {
  const now = enclave.now()
  const replay = enclave.replay.check(agent.agentId, r.nonce, r.issuedAt, now)
  if (replay !== 'ok') {
    const retry = replay === 'request_before_enclave_start' ? enclave.replay.startedAt + enclave.replay.futureSkewMs - now + 1 : undefined
    throw new EnclaveError(replay, replayMessage(replay), retry ? { extra: { retryAfterMs: Math.max(1, retry) } } : {})
  }
  const tx = enclave.beginTx()
  const rec = wallet.policies.get(agent.agentId)
  const ctx = { resourceUrl: r.context?.resourceUrl, reason: r.context?.reason }
  const base = { wallet, agent, r, rec, tx }
  if (agent.status === 'revoked') return refuse(enclave, base, null, [], { code: 'agent_revoked', message: 'Agent was revoked by its owner' })
  if (wallet.rolledBack) {
    return refuse(enclave, base, null, [], { code: 'wallet_rolled_back', message: 'Wallet state was rolled back; the owner must resync' })
  }
  if (!rec || rec.revoked) {
    const message = rec ? 'The owner revoked this agent’s policy' : 'No policy is set for this agent'
    return refuse(enclave, base, null, [], { code: 'agent_no_policy', message })
  }
  const policy = cachedPolicy(rec)
  const decoded = decodeSignRequest({ request: r, wallet: wallet.address, registry: policy.tokens })
  if (!decoded.ok) {
    const events: LedgerEvent[] = [
      { type: 'request', agentId: agent.agentId, at: now },
      { type: 'denial', agentId: agent.agentId, code: decoded.code.slice(0, 64), at: now },
    ]
    return refuse(enclave, base, null, events, { code: decoded.code, message: decoded.message })
  }
  const action = decoded.action
  const summary = approvalSummary(agent.agentId, action, ctx.resourceUrl)
  const verdict = evaluatePolicy({
    policy,
    action,
    context: ctx,
    agentId: agent.agentId,
    ledger: ledgerOf(wallet),
    now,
    requestDigest: approvalDigest(summary),
    requestSummary: summary,
    ...(r.permitId ? { permitId: r.permitId } : {}),
  })
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
  applyEvents(enclave, wallet, verdict.events)
  const { entry, hash } = enclave.appendEntry(tx, {
    ...entryFields(base, action),
    event: 'sign_allowed',
    verdict: 'allow',
    rule: verdict.rule,
    code: null,
    signedHash: decoded.plan.digest,
    ledger: verdict.events,
  })
  const signing = enclave.signer.sign(wallet.privateKey, decoded.plan)
  signing.catch(() => {}) // awaited by the caller; never an unhandled rejection
  const stateVersion = enclave.stateVersion
  const pending = await enclave.sealTx(tx)
  return { res: { ok: true, result: { receipt: { seq: entry.seq, entryHash: hash, stateVersion } } }, pending, signing }
}

type Base = { wallet: WalletRecord; agent: AgentRecord; r: AgentRequest; rec: PolicyRecord | undefined; tx: Tx }

async function refuse(
  enclave: Enclave,
  base: Base,
  action: DecodedAction | null,
  events: LedgerEvent[],
  error: WireError,
  event: AuditEvent = 'sign_denied',
  verdict: 'deny' | 'pending' = 'deny',
): Promise<Decided> {
  applyEvents(enclave, base.wallet, events)
  enclave.appendEntry(base.tx, {
    ...entryFields(base, action),
    event,
    verdict,
    rule: error.rule ?? null,
    code: error.code,
    signedHash: null,
    ledger: events,
  })
  return { res: { ok: false, error }, pending: await enclave.sealTx(base.tx) }
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

function cachedPolicy(rec: PolicyRecord): Policy {
  let p = policyCache.get(rec.hash)
  if (!p) {
    p = parsePolicy(rec.json)
    policyCache.set(rec.hash, p)
  }
  return p
}

function replayMessage(code: string): string {
  switch (code) {
    case 'request_replayed':
      return 'This request (agent, nonce) was already seen'
    case 'request_stale':
      return 'Request issuedAt is too old; sign a fresh request'
    case 'request_not_yet_valid':
      return 'Request issuedAt is in the future; check the agent clock'
    default:
      return 'Request was issued before this enclave started; sign a fresh request'
  }
}
