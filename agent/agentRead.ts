import type { Hex } from 'viem'
import { z } from 'zod'
import { AgentStatusResultSchema } from '../shared/protocol/messages.js'
import { AgentReadRequestSchema } from '../shared/schemas/agentReadRequest.js'
import { AGENT_ERROR_CODES, BursarRequestError } from './errors.js'
import type { AgentKey } from './loadAgentKey.js'
import { postSignedRequest } from './postSignedRequest.js'

export type AgentReadParameters = {
  host: string
  agentKey: AgentKey
  wallet: Hex
  fetch?: typeof globalThis.fetch | undefined
  timeoutMs?: number | undefined
}

const amount = z.string().regex(/^(0|[1-9][0-9]*)$/)
const windowLeft = z.object({ limit: amount, used: amount, remaining: amount }).nullable()
const capLeft = z.object({
  chainId: z.number().int(),
  asset: z.string(),
  symbol: z.string().nullable(),
  decimals: z.number().int().nullable(),
  perTx: amount.nullable(),
  rolling24h: windowLeft,
  calendarDay: windowLeft,
})
/** The enclave's status view (core/policy/budgetStatus.ts), checked here: the host in between is untrusted. */
export const AgentStatusViewSchema = z.object({
  now: z.number().int(),
  revoked: z.boolean(),
  frozen: z.boolean(),
  policy: z.object({ version: z.number().int(), hash: z.string(), expiresAt: z.number().int().nullable() }).nullable(),
  budgets: z.array(capLeft),
  /** Wallet-wide caps (the wallet policy): what all of the wallet's agents together have left. */
  walletBudgets: z.array(capLeft).optional(),
  /** Owner-approved loosenings of this agent's (or the wallet's) policy still waiting out the time lock. */
  scheduled: z.array(z.object({ wallet: z.boolean(), version: z.number().int(), widens: z.array(z.string()), effectiveAt: z.number().int() })).optional(),
  permits: z.array(z.record(z.string(), z.unknown())),
  pending: z.array(z.object({ id: z.string(), status: z.string(), expiresAt: z.number().int(), summary: z.unknown() })),
})
export type AgentStatusView = z.infer<typeof AgentStatusViewSchema>

const PaymentsSchema = z.object({ agentId: z.string(), entries: z.array(z.record(z.string(), z.unknown())) })
export type AgentPayments = z.infer<typeof PaymentsSchema>

/** The agent's remaining budget per cap and window, live permits and pending requests, as the enclave computes them. */
export async function readAgentStatus(params: AgentReadParameters): Promise<AgentStatusView> {
  const body = await signedRead(params, 'readStatus', '/v1/agent/status')
  const parsed = AgentStatusResultSchema.safeParse(body)
  const view = AgentStatusViewSchema.safeParse(parsed.success ? parsed.data.status : undefined)
  if (!view.success)
    throw new BursarRequestError(AGENT_ERROR_CODES.response_invalid, 'bursar host sent a malformed status', { cause: view.error })
  return view.data
}

/** This agent's newest audit entries (allowed, refused, pending), newest first. */
export async function readAgentPayments(params: AgentReadParameters & { limit?: number | undefined }): Promise<AgentPayments> {
  const body = await signedRead(params, 'readPayments', '/v1/agent/payments', params.limit)
  const parsed = PaymentsSchema.safeParse(body)
  if (!parsed.success)
    throw new BursarRequestError(AGENT_ERROR_CODES.response_invalid, 'bursar host sent malformed payments', { cause: parsed.error })
  return parsed.data
}

function signedRead(params: AgentReadParameters, op: 'readStatus' | 'readPayments', path: string, limit?: number): Promise<unknown> {
  const fields = { op, ...(limit !== undefined ? { limit: Math.min(Math.max(Math.trunc(limit), 1), 100) } : {}) }
  AgentReadRequestSchema.omit({ v: true, agentId: true, wallet: true, nonce: true, issuedAt: true }).parse(fields)
  return postSignedRequest({ ...params, path, fields }).then((r) => r.body)
}
