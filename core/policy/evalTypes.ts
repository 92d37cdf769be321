import type { DecodedAction } from '../../shared/schemas/decodedAction.js'
import type { Policy } from '../../shared/schemas/policy.js'
import type { WalletPolicy } from '../../shared/schemas/walletPolicy.js'
import type { ActionFacts, Spend } from '../kinds/KindSpec.js'
import type { LedgerView } from '../state/stateTypes.js'
import type { LedgerEvent } from '../ledger/LedgerEvent.js'
import type { LocalTime } from './localTime.js'
import type { PolicyCode } from './policyCodes.js'

/** Everything a rule check may read: the decoded action, its facts (from its kind), the ledger (read only) and an explicit `now`. */
export type EvalContext = {
  policy: Policy
  action: DecodedAction
  /** What the action's kind says it moves, to whom and until when. */
  facts: ActionFacts
  /** The one non-fee spend (what permits and pre-approvals match), or null when there is none or several. */
  primary: Spend | null
  agentId: string
  ledger: LedgerView
  now: number
  /** Lowercase host of context.resourceUrl (advisory), or null. */
  host: string | null
  /** Local time in the policy time zone (computed lazily). */
  local: () => LocalTime
}

/** One condition's outcome, kept for explanations; `code` is what it contributes to a denial (set on failed allow conditions and on held deny predicates). */
export type Check = {
  name: string
  ok: boolean
  code?: PolicyCode
  message: string
  remaining?: string
}

export type EvaluatePolicyParameters = {
  policy: Policy
  /** What the enclave decoded from the bytes it would sign (never the agent's description). */
  action: DecodedAction
  /** Advisory service context from the SDK: resourceUrl feeds host lists only; reason is never interpreted. */
  context?: { resourceUrl?: string | undefined; reason?: string | undefined } | undefined
  agentId: string
  ledger: LedgerView
  /** Milliseconds since the epoch: the only clock evaluation uses. */
  now: number
  /** A spend permit the agent names for this payment. */
  permitId?: string | undefined
  /** The wallet's policy: caps on all of its agents together, checked with (after) the agent's budgets. */
  walletPolicy?: WalletPolicy | null | undefined
}

export type PolicyVerdict =
  | { verdict: 'allow'; rule: string; events: LedgerEvent[] }
  | { verdict: 'deny'; code: PolicyCode; rule: string; message: string; remaining?: string; events: LedgerEvent[] }
  | { verdict: 'pending'; code: 'approval_pending'; rule: string; message: string; pendingId: string; expiresAt: number; events: LedgerEvent[] }

/** Per-stage and per-rule record of what passed and failed (explainPolicy). */
export type PolicyTrace = {
  stages: Check[]
  rules: { rule: string; effect: 'allow' | 'deny'; ok: boolean; checks: Check[] }[]
}
