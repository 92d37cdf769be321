import * as z from 'zod'
import { canonicalHash } from '../canonical/canonicalJson.js'
import { DecodedActionSchema } from '../schemas/decodedAction.js'

/**
 * What an owner sees and signs when answering a pending request: the whole
 * decoded action (every field that reaches the signature), the agent, the
 * advisory resource host, which fields a retry may change (`free`, e.g. an
 * x402 retry's fresh nonce and validity window) and how long the retried
 * signature may stay valid (`validForSeconds`, null = no end). The enclave
 * builds it (core/policy/approvalRequest.ts); ResolvePending signs its digest.
 */
export const ApprovalSummarySchema = z.strictObject({
  agentId: z.string(),
  host: z.string().nullable(),
  describe: z.string(),
  action: DecodedActionSchema,
  free: z.array(z.string()),
  validForSeconds: z.number().int().nonnegative().nullable(),
})
export type ApprovalSummary = z.infer<typeof ApprovalSummarySchema>

/** 0x + SHA-256 of the summary's canonical JSON: what ResolvePending signs, re-computed by owner tools from what they show. */
export function approvalDigest(summary: ApprovalSummary | Record<string, unknown>): `0x${string}` {
  return canonicalHash(summary)
}
