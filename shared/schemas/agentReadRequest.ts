import * as z from 'zod'
import { AGENT_SIGNED_FIELDS } from './agentRequest.js'

/**
 * An agent's signed read of its own state (Ed25519 over the exact UTF-8 JSON
 * text, like AgentRequest): `status` = remaining budget, permits and pending
 * requests; `payments` = this agent's own audit entries (the host serves
 * them only after the enclave authenticated the request). The `op` values
 * differ from every AgentRequest op and both schemas are strict, so a signed
 * read can never be replayed as a signing request or the other way round.
 */
export const AgentReadRequestSchema = z.strictObject({
  ...AGENT_SIGNED_FIELDS,
  op: z.enum(['readStatus', 'readPayments']),
  /** readPayments: how many of the newest entries (default 20). */
  limit: z.number().int().min(1).max(100).optional(),
})
export type AgentReadRequest = z.infer<typeof AgentReadRequestSchema>

/** Opens a MAC session (docs/agent-sdk.md "Sessions"), Ed25519-signed only: the agent's ephemeral X25519 public key, raw hex. */
export const AgentSessionOpenSchema = z.strictObject({ ...AGENT_SIGNED_FIELDS, op: z.literal('openSession'), x25519: z.string().regex(/^[0-9a-f]{64}$/) })
/** What /v1/agent/status and /v1/agent/session carry (one enclave message, agentStatus). */
export const AgentReadOrOpenSchema = z.union([AgentReadRequestSchema, AgentSessionOpenSchema])
