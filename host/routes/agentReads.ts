import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { AgentSignBodySchema as AgentReadBody, AgentStatusResultSchema } from '../../shared/protocol/messages.js'
import type { EnclaveGateway } from '../enclave/EnclaveGateway.js'
import { errorStatus } from '../plugins/errorStatus.js'
import type { Store } from '../storage/Store.js'
import { forward } from './forward.js'

const ErrorBody = z.object({ code: z.string(), message: z.string() }).passthrough()

/**
 * An agent's reads of its own state, each authenticated by the enclave from
 * the agent's signed AgentReadRequest: remaining budget (the enclave
 * answers) and its own recent audit entries (this host serves them, filtered
 * by the agent id the enclave authenticated — never by one the caller names).
 */
export function agentReadRoutes(gateway: EnclaveGateway, store: Store): FastifyPluginAsyncZod {
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
          summary: 'The agent’s own newest audit entries (signed readPayments), newest first',
          body: AgentReadBody,
          response: { 200: z.object({ agentId: z.string(), entries: z.array(z.record(z.string(), z.unknown())) }), '4xx': ErrorBody, '5xx': ErrorBody },
        },
      },
      async (req, reply) => {
        const res = await gateway.call({ type: 'agentStatus', ...req.body })
        if (!res.ok) return reply.code(errorStatus(res.error.code)).send(res.error)
        const who = AgentStatusResultSchema.parse(res.result)
        if (who.op !== 'readPayments') return reply.code(400).send({ code: 'request_invalid', message: 'Sign a readPayments request for this route' })
        // SECURITY: the filter is the identity the enclave verified, so one agent cannot read another's entries.
        const texts = await store.queryEntries({ agentId: who.agentId, wallet: who.wallet, newestFirst: true, limit: who.limit ?? 20 })
        return { agentId: who.agentId, entries: texts.map((t) => JSON.parse(t) as Record<string, unknown>) }
      },
    )
  }
}
