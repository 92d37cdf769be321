import type { Hex } from 'viem'
import { z } from 'zod'
import { type AgentStatusResult, AgentStatusResultSchema } from '../shared/protocol/messages.js'
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

const PaymentsSchema = z.object({ agentId: z.string(), entries: z.array(z.record(z.string(), z.unknown())) })
export type AgentPayments = z.infer<typeof PaymentsSchema>

/** The agent's remaining budget per cap and window, live permits and pending requests, as the enclave computes them. */
export async function readAgentStatus(params: AgentReadParameters): Promise<NonNullable<AgentStatusResult['status']>> {
  const body = await signedRead(params, 'readStatus', '/v1/agent/status')
  const parsed = AgentStatusResultSchema.safeParse(body)
  if (!parsed.success || !parsed.data.status)
    throw new BursarRequestError(AGENT_ERROR_CODES.response_invalid, 'bursar host sent a malformed status', { cause: parsed.error })
  return parsed.data.status
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
