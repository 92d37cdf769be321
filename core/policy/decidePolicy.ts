import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js'
import type { LedgerEvent } from '../ledger/LedgerEvent.js'
import { canonicalJson } from '../../shared/canonical/canonicalJson.js'
import { approvalKey, approvalRequest, withinApprovedValidity } from './approvalRequest.js'
import { buildEvalContext } from './buildEvalContext.js'
import type { Check, EvalContext, EvaluatePolicyParameters, PolicyTrace, PolicyVerdict } from './evalTypes.js'
import type { PolicyCode } from './policyCodes.js'
import { checkCaps } from './rules/checkCaps.js'
import { localTime } from './localTime.js'
import type { Spend } from '../kinds/KindSpec.js'
import { checkPermit } from './rules/checkPermit.js'
import { checkPreApproval } from './rules/checkPreApproval.js'
import { checkSpendSpike } from './rules/checkSpendSpike.js'
import { checkEscrow } from './rules/checkEscrow.js'
import { checkFacilitators, checkTokenRegistry } from './rules/checkTokenRegistry.js'
import { checkValidityWindow } from './rules/checkValidityWindow.js'
import { checkVelocity } from './rules/checkVelocity.js'
import { evaluateRule } from './rules/evaluateRule.js'

/** Open approval requests one agent may have at a time (beyond: policy_pending_limit). */
export const MAX_OPEN_PENDING = 64
/** SECURITY: the largest summary a pending request keeps (canonical JSON bytes): sealed state stays bounded. */
export const MAX_PENDING_SUMMARY_BYTES = 4096

const DEFAULT_PENDING_TTL_S = 900
type Failure = { code: PolicyCode; rule: string; message: string; remaining?: string | undefined; pending: boolean }

/**
 * The policy decision, in order: binding and expiry, frozen agent, velocity,
 * token registry, facilitator allowlist, escrow (allowlist, voucher order, locked funds), authorization validity, deny rules (any match wins), a named
 * permit, an owner-approved pending request, allow rules + budgets + wallet-wide caps + risk,
 * pre-approvals, then deny or ask the owner. Reads the ledger, never writes
 * it: the verdict carries the events the caller applies if it proceeds.
 */
export function decidePolicy(p: EvaluatePolicyParameters, trace?: PolicyTrace): PolicyVerdict {
  const ctx = buildEvalContext(p)
  const { policy, agentId, ledger, now } = ctx
  const full = trace !== undefined
  const base: LedgerEvent[] = [{ type: 'request', agentId, at: now }]
  const stage = (c: Check | null): Check | null => {
    if (c && trace) trace.stages.push(c)
    return c && !c.ok ? c : null
  }
  const deny = (f: Omit<Failure, 'pending'>, freeze?: string): PolicyVerdict => {
    const events: LedgerEvent[] = [...base, { type: 'denial', agentId, code: f.code, at: now }]
    const burst = policy.risk?.denialBurst
    if (!freeze && burst && !ledger.frozenInfo(agentId)) {
      const n = ledger.denialsAfter(agentId, now - burst.windowMinutes * 60_000) + 1
      if (n >= burst.count) freeze = `risk: ${n} denials within ${burst.windowMinutes} min`
    }
    if (freeze) events.push({ type: 'agent_frozen', agentId, reason: freeze.slice(0, 280), at: now })
    const { code, rule, message, remaining } = f
    return { verdict: 'deny', code, rule, message, ...(remaining === undefined ? {} : { remaining }), events }
  }
  const denyCheck = (c: Check, rule = c.name) =>
    deny({ code: c.code ?? 'policy_no_matching_rule', rule, message: c.message, remaining: c.remaining })
  const allow = (rule: string, extra: LedgerEvent[], tag: Record<string, string>): PolicyVerdict => {
    const events = [...base, ...extra]
    // SECURITY: every way the signature lets someone take funds is counted now, fees included.
    for (const s of ctx.facts.spends) {
      if (s.amount === 0n) continue
      events.push({
        type: 'spend',
        agentId,
        chainId: s.chainId,
        asset: s.asset,
        amount: s.amount.toString(),
        payTo: s.to,
        role: s.role,
        host: ctx.host,
        at: now,
        validBefore: ctx.facts.validUntil,
        ...(s === ctx.primary ? tag : {}),
      })
    }
    // A batch-settlement deposit locks funds; a voucher raises the channel's highest signed total.
    const ch = ctx.facts.channel
    if (ch && (ch.lock > 0n || (ch.total ?? 0n) > ch.signedBefore)) {
      const signed = (ch.total ?? 0n).toString()
      events.push({ type: 'channel', agentId, channelId: ch.id, chainId: ch.chainId, asset: ch.asset, locked: ch.lock.toString(), signed, at: now })
    }
    return { verdict: 'allow', rule, events }
  }
  /** The agent's budgets, then the wallet-wide caps (all agents together); the first failing check, or null. */
  const caps = (spends?: Spend[], exceptPermitId?: string): Check | null => {
    const w = p.walletPolicy
    const b = checkCaps({ caps: policy.budgets, ctx, spends, required: true, scope: 'budget', exceptPermitId })
    const dayStart = () => localTime(now, w!.timeZone).dayStart
    if (w) b.push(...checkCaps({ caps: w.budgets, ctx, spends, required: false, scope: 'wallet', exceptPermitId, wallet: { dayStart } }))
    for (const c of b) stage(c)
    return b.find((c) => !c.ok) ?? null
  }
  /** Budgets then risk; null when the spend may proceed. */
  const budgetsAndRisk = (risk: boolean): PolicyVerdict | null => {
    const bad = caps()
    if (bad) return denyCheck(bad)
    const spike = risk ? stage(checkSpendSpike(ctx)) : null
    return spike ? deny({ code: spike.code!, rule: spike.name, message: spike.message }, `risk: ${spike.message}`) : null
  }

  // 1. Binding, expiry, frozen agent, velocity, registry, facilitators, authorization validity.
  if (agentId !== policy.agentId)
    return deny({ code: 'policy_agent_mismatch', rule: 'policy.agentId', message: 'policy is for another agent' })
  if (policy.expiresAt !== undefined && now >= policy.expiresAt)
    return deny({ code: 'policy_expired', rule: 'policy.expiresAt', message: `policy expired at ${new Date(policy.expiresAt).toISOString()}` })
  const frozen = ledger.frozenInfo(agentId)
  if (frozen) return deny({ code: 'agent_frozen', rule: 'frozen', message: `agent frozen: ${frozen.reason}` }, undefined)
  for (const c of [checkVelocity, checkTokenRegistry, checkFacilitators, checkEscrow, (x: EvalContext) => checkValidityWindow(undefined, x)]) {
    const bad = stage(c(ctx))
    if (bad) return denyCheck(bad)
  }

  // 2. Deny rules: any match wins.
  let denied: PolicyVerdict | null = null
  for (const r of policy.rules) {
    if (r.effect !== 'deny' || (denied && !full)) continue
    const o = evaluateRule(r, ctx, full)
    trace?.rules.push({ rule: r.id, effect: 'deny', ok: o.ok, checks: o.checks })
    if (o.ok && !denied) denied = deny({ code: o.code!, rule: `rules.${r.id}`, message: `deny rule ${r.id} matches` })
  }
  if (denied) return denied

  // 3. A named single-use permit (owner-issued): replaces rules, not budgets unless exceedCaps.
  if (p.permitId !== undefined) {
    const bad = stage(checkPermit(p.permitId, ctx))
    if (bad) return denyCheck(bad)
    const permit = ledger.getPermit(p.permitId)!
    // An exceedCaps permit lifts the caps for the payment it covers; fees stay under the budgets.
    const capped = permit.exceedCaps ? ctx.facts.spends.filter((s) => s !== ctx.primary) : ctx.facts.spends
    const badCap = caps(capped, p.permitId)
    if (badCap) return denyCheck(badCap)
    const used: LedgerEvent = { type: 'permit_used', permitId: p.permitId, amount: (ctx.primary?.amount ?? 0n).toString(), at: now }
    return allow(`permit.${p.permitId}`, [used], { permitId: p.permitId })
  }

  // 4. This exact request, approved by the owner: identical but for its kind's free fields, whose validity stays
  // within the span the owner signed.
  // Only the key per request; the summary and digest the owner signs are built if this request is queued (step 7).
  const prior = ledger.findPending(agentId, () => approvalKey({ agentId, host: ctx.host, action: p.action }))
  if (prior?.status === 'approved' && now < prior.expiresAt && !withinApprovedValidity(prior.summary, ctx.facts, now)) {
    // The approved purchase, but valid longer than the owner approved: refused; the approval stays for a proper retry.
    const span = prior.summary.validForSeconds
    return deny({
      code: 'policy_validity_window_too_long',
      rule: `pending.${prior.pendingId}`,
      message: `the owner approved this purchase valid for at most ${span === null ? 'no limit' : `${span}s`}`,
    })
  }
  if (prior?.status === 'approved' && now < prior.expiresAt) {
    stage({ name: `pending.${prior.pendingId}`, ok: true, message: 'approved by the owner' })
    return allow(`pending.${prior.pendingId}`, [{ type: 'pending_used', pendingId: prior.pendingId, at: now }], {
      pendingId: prior.pendingId,
    })
  }

  // 5. Allow rules: the first that passes, then budgets and risk.
  let failure: Failure | null = null
  let best = -1
  let anyKind = false
  for (const r of policy.rules) {
    if (r.effect !== 'allow') continue
    const o = evaluateRule(r, ctx, full)
    trace?.rules.push({ rule: r.id, effect: 'allow', ok: o.ok, checks: o.checks })
    if (o.ok) {
      const stop = budgetsAndRisk(true)
      if (!stop) return allow(`rules.${r.id}`, [], {})
      if (stop.verdict !== 'deny' || stop.code === 'policy_risk_spend_spike') return stop
      failure = { code: stop.code, rule: stop.rule, message: stop.message, remaining: stop.remaining, pending: r.onViolation === 'pending' }
      break
    }
    if (o.checks[0]?.name === 'kinds' && !o.checks[0].ok) continue
    anyKind = true
    if (o.passed > best) {
      best = o.passed
      const c = o.checks.find((x) => !x.ok)!
      failure = { code: o.code!, rule: `rules.${r.id}`, message: `${r.id}: ${c.message}`, remaining: c.remaining, pending: r.onViolation === 'pending' }
    }
  }
  failure ??= anyKind
    ? { code: 'policy_no_matching_rule', rule: 'rules', message: 'no allow rule matches', pending: false }
    : { code: 'policy_kind_not_allowed', rule: 'rules', message: `no allow rule covers ${p.action.kind}: add it to a rule's kinds`, pending: false }

  // 6. Offline pre-approvals the owner authorized in advance.
  for (const pa of policy.preApprovals ?? []) {
    const miss = stage(checkPreApproval(pa, ctx))
    if (miss) {
      if (miss.code) failure = { ...failure, code: miss.code, rule: miss.name, message: miss.message }
      continue
    }
    const stop = budgetsAndRisk(true)
    if (!stop) return allow(`preApprovals.${pa.id}`, [], { preApprovalId: pa.id })
    if (stop.verdict !== 'deny' || stop.code === 'policy_risk_spend_spike') return stop
    failure = { ...failure, code: stop.code, rule: stop.rule, message: stop.message, remaining: stop.remaining }
  }

  // 7. Ask the owner, or deny.
  if (!failure.pending) return deny(failure)
  if (prior?.status === 'rejected' && now < prior.expiresAt)
    return deny({ ...failure, message: `${failure.message} (the owner rejected this request)` })
  const message = `${failure.message}; waiting for the owner's approval`
  if (prior?.status === 'pending' && now < prior.expiresAt)
    return { verdict: 'pending', code: 'approval_pending', rule: failure.rule, message, pendingId: prior.pendingId, expiresAt: prior.expiresAt, events: base }
  // SECURITY: an agent cannot grow state without bound by asking for approval over and over.
  if (ledger.openPendingCount(agentId, now) >= MAX_OPEN_PENDING) {
    return deny({ ...failure, code: 'policy_pending_limit', message: `${failure.message}; ${MAX_OPEN_PENDING} requests already wait for the owner` })
  }
  const approval = approvalRequest({ agentId, host: ctx.host, action: p.action, facts: ctx.facts, now })
  // SECURITY: a summary holds the whole action (typed data, calldata, message); a huge one is not queued for the owner.
  // Measured in UTF-8 bytes (what is stored and sealed), not JS string length: multi-byte text counts in full.
  if (utf8ToBytes(canonicalJson(approval.summary)).length > MAX_PENDING_SUMMARY_BYTES) {
    return deny({ ...failure, code: 'policy_pending_limit', message: `${failure.message}; too large (> ${MAX_PENDING_SUMMARY_BYTES} bytes) to queue for the owner's approval` })
  }
  const pendingId = `pnd_${bytesToHex(sha256(utf8ToBytes(`${agentId}|${approval.key}|${now}`))).slice(0, 32)}`
  const expiresAt = now + (policy.pendingTtlSeconds ?? DEFAULT_PENDING_TTL_S) * 1000
  const created: LedgerEvent = {
    type: 'pending_created',
    pendingId,
    agentId,
    key: approval.key,
    digest: approval.digest,
    at: now,
    expiresAt,
    summary: approval.summary,
  }
  return { verdict: 'pending', code: 'approval_pending', rule: failure.rule, message, pendingId, expiresAt, events: [...base, created] }
}
