import { z } from 'zod'

/**
 * An agent's signed read of its own state (Ed25519 over the exact UTF-8 JSON
 * text, like AgentRequest): `status` = remaining budget, permits and pending
 * requests; `payments` = this agent's own audit entries (the host serves
 * them only after the enclave authenticated the request). The `op` values
 * differ from every AgentRequest op and both schemas are strict, so a signed
 * read can never be replayed as a signing request or the other way round.
 */
export const AgentReadRequestSchema = z
  .object({
    v: z.literal(1),
    agentId: z.string().regex(/^agt_[0-9a-f]{40}$/),
    wallet: z.string().regex(/^0x[0-9a-fA-F]{40}$/),
    nonce: z.string().regex(/^[0-9a-f]{32}$/),
    issuedAt: z.number().int().nonnegative(),
    op: z.enum(['readStatus', 'readPayments']),
    /** readPayments: how many of the newest entries (default 20). */
    limit: z.number().int().min(1).max(100).optional(),
  })
  .strict()
export type AgentReadRequest = z.infer<typeof AgentReadRequestSchema>
