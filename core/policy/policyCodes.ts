import type { ErrorCode } from '../../shared/errors/errorCodes.js'

/** The evaluator's denial codes: the `policy_*` rows of THE error-code table, plus a frozen agent and a pending approval. */
export type PolicyCode = Extract<ErrorCode, `policy_${string}`> | 'agent_frozen' | 'approval_pending'
