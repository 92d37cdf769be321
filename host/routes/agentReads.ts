import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { AgentSignBodySchema as AgentReadBody, AgentStatusResultSchema } from '../../shared/protocol/messages.js'
import type { EnclaveGateway } from '../enclave/EnclaveGateway.js'
import { errorStatus } from '../plugins/errorStatus.js'
import { auditNext, MIN_SCAN_ROWS } from '../storage/auditScan.js'
import type { Store } from '../storage/Store.js'
import { DEFAULT_AUDIT_SCAN_ROWS } from './audit.js'
import { forward } from './forward.js'

const ErrorBody = z.object({ code: z.string(), message: z.string() }).passthrough()
export const AgentPaymentsResponseSchema = z.object({
  agentId: z.string(),
  entries: z.array(z.record(z.string(), z.unknown())).describe('the agent\'s entries, newest first (seq descending, then chain)'),
  next: z
    .number()
    .int()
    .nullable()
    .describe('audit40: pass as `before` (a fresh signed readPayments) for older entries; null when none are left. A page may hold fewer than `limit` entries (even none) and still have a `next`'),
  scanned: z.number().int().describe('stored entries of the wallet this read went through (the host\'s row budget, BURSAR_AUDIT_SCAN_ROWS, bounds it)'),
  scannedThrough: z.number().int().describe('every entry of the wallet with scannedThrough ≤ seq < before was read for this page'),
})

/**
 * An agent's reads of its own state, each authenticated by the enclave from
 * the agent's signed AgentReadRequest: remaining budget (the enclave
 * answers) and its own recent audit entries (this host serves them, filtered
 * by the agent id the enclave authenticated — never by one the caller names).
 * `scanRows` (audit40): the row budget of one payments read, as the audit route's (BURSAR_AUDIT_SCAN_ROWS).
 */
export function agentReadRoutes(gateway: EnclaveGateway, store: Store, scanRows = DEFAULT_AUDIT_SCAN_ROWS): FastifyPluginAsyncZod {
  const rows = Math.max(MIN_SCAN_ROWS, scanRows)
  return async (app) => {
    app.post(
      '/v1/agent/status',
      {
        schema: {
          tags: ['agent'],
          summary: 'The agent’s remaining budget per cap and window, permits and pending requests (signed readStatus)',
          body: AgentReadBody,
        },
      },
      async (req, reply) => forward(gateway, { type: 'agentStatus', ...req.body }, reply),
    )
    app.post(
      '/v1/agent/session',
      {
        schema: {
          tags: ['agent'],
          summary: 'Open a MAC session (Ed25519-signed openSession with the agent’s ephemeral X25519 key; docs/agent-sdk.md “Sessions”)',
          body: AgentReadBody,
        },
      },
      async (req, reply) => forward(gateway, { type: 'agentStatus', ...req.body }, reply),
    )
    app.post(
      '/v1/agent/payments',
      {
        schema: {
          tags: ['agent'],
          summary: 'The agent’s own newest audit entries (signed readPayments), newest first; each page reads at most the host’s row budget (audit40: follow `next` as `before`)',
          body: AgentReadBody,
          querystring: z
            .object({ before: z.coerce.number().int().min(0).optional().describe('cursor: entries with seq < before (the previous page\'s `next`; absent: from the newest)') })
            .strict(),
          response: { 200: AgentPaymentsResponseSchema, '4xx': ErrorBody, '5xx': ErrorBody },
        },
      },
      async (req, reply) => {
        const res = await gateway.call({ type: 'agentStatus', ...req.body })
        if (!res.ok) return reply.code(errorStatus(res.error.code)).send(res.error)
        const who = AgentStatusResultSchema.parse(res.result)
        if (who.op !== 'readPayments') return reply.code(400).send({ code: 'request_invalid', message: 'Sign a readPayments request for this route' })
        // SECURITY: the filter is the identity the enclave verified, so one agent cannot read another's entries.
        // audit40: the wallet's entries from the cursor down, at most `rows` of them (an agent with few entries in a
        // busy wallet read the whole wallet per request: the query had no bound on rows read, only on rows returned).
        const limit = who.limit ?? 20
        const page = await store.scanEntries({ agentId: who.agentId, wallet: who.wallet, newestFirst: true, beforeSeq: req.query.before, limit }, rows)
        const entries = page.texts.map((t) => JSON.parse(t) as Record<string, unknown> & { seq: number })
        return { agentId: who.agentId, entries, next: auditNext(page, entries.at(-1)?.seq, limit), scanned: page.scanned, scannedThrough: page.through }
      },
    )
  }
}
