import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { AgentSignBodySchema as AgentSignBody } from '../../shared/protocol/messages.js'
import type { EnclaveGateway } from '../enclave/EnclaveGateway.js'
import { forward } from './forward.js'


/** The agent hot path: forwards the signed request text unchanged; the enclave decides. */
export function agentRoutes(gateway: EnclaveGateway): FastifyPluginAsyncZod {
  return async (app) => {
    app.post(
      '/v1/agent/sign',
      {
        schema: {
          tags: ['agent'],
          summary: 'Ask the enclave to sign (typed data, EIP-1559 transaction or message) under the agent policy',
          body: AgentSignBody,
        },
      },
      async (req, reply) => forward(gateway, { type: 'agentSign', ...req.body }, reply),
    )
  }
}
