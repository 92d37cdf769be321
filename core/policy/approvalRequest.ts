import { canonicalHash } from '../../shared/canonical/canonicalJson.js'
import { type ApprovalSummary, approvalDigest } from '../../shared/owner/approvalSummary.js'
import type { DecodedAction } from '../../shared/schemas/decodedAction.js'
import type { ActionFacts } from '../kinds/KindSpec.js'
import { approvalFreeFields, describeAction } from '../kinds/kindTable.js'

export type ApprovalRequestParameters = { agentId: string; host: string | null; action: DecodedAction; facts: ActionFacts; now: number }
/** `key` matches a retry (everything but the kind's free fields); `digest` is what the owner signs. */
export type ApprovalRequest = { key: string; digest: `0x${string}`; summary: ApprovalSummary }

/** Validity spans the owner approves are shown rounded up to 10 s, so a retry a moment later fits the same bound. */
const SPAN_STEP_S = 10

/**
 * Builds the approval identity of a request. SECURITY: the key covers every
 * field of the decoded action except the kind's declared free fields, so an
 * approval cannot be reused for other arguments, gas, fees, message content
 * or amounts; the free fields' effect (how long the signature is money) is
 * bounded by `validForSeconds`, which the owner sees and signs.
 */
export function approvalRequest({ agentId, host, action, facts, now }: ApprovalRequestParameters): ApprovalRequest {
  const nowSec = Math.floor(now / 1000)
  const validForSeconds =
    facts.validUntil === null ? null : Math.max(SPAN_STEP_S, Math.ceil((facts.validUntil - nowSec) / SPAN_STEP_S) * SPAN_STEP_S)
  const summary: ApprovalSummary = { agentId, host, describe: describeAction(action), action, free: [...approvalFreeFields(action)], validForSeconds }
  return { key: approvalKey({ agentId, host, action }), digest: approvalDigest(summary), summary }
}

/**
 * The approval key alone (approvalRequest's `key`; the key covers every field but the kind's free ones): what every
 * request looks up. The summary and digest the owner signs (~2/3 of approvalRequest's CPU) are built only when a
 * request is queued for approval.
 */
export function approvalKey({ agentId, host, action }: Pick<ApprovalRequestParameters, 'agentId' | 'host' | 'action'>): string {
  return canonicalHash({ agentId, host, bound: Object.fromEntries(Object.entries(action).filter(([k]) => !approvalFreeFields(action).includes(k))) })
}

/** Does a retry's validity stay within what the owner approved? */
export function withinApprovedValidity(summary: ApprovalSummary, facts: ActionFacts, now: number): boolean {
  const nowSec = Math.floor(now / 1000)
  if (summary.validForSeconds === null) return facts.validUntil === null || facts.validUntil > nowSec
  return facts.validUntil !== null && facts.validUntil > nowSec && facts.validUntil - nowSec <= summary.validForSeconds
}
