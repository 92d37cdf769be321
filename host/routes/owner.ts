import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { OwnerActBodySchema as OwnerActBody } from '../../shared/protocol/messages.js'
import type { EnclaveGateway } from '../enclave/EnclaveGateway.js'
import { errorStatus } from '../plugins/errorStatus.js'

/** Owner acts (EIP-712 signed; the host cannot forge them) and the public wallet view. */
export function ownerRoutes(gateway: EnclaveGateway): FastifyPluginAsyncZod {
  return async (app) => {
    app.post(
      '/v1/owner/acts',
      {
        schema: {
          tags: ['owner'],
          summary: 'Apply an owner-signed act (CreateWallet, RegisterAgent, SetPolicy, SetWalletPolicy, RevokeAgent, RevokePolicy, FreezeAgent, ResolvePending, IssuePermit, CreditBudget, SetOwners, CancelScheduled, Resync); with several owners it may only add a signature (result.proposal)',
          body: OwnerActBody,
        },
      },
      async (req, reply) => {
        // The gateway parses the enclave's answer with OwnerActResultSchema; the owner's tools verify its receipt again.
        const res = await gateway.call({ type: 'ownerAct', ...req.body })
        if (!res.ok) return reply.code(errorStatus(res.error.code)).send(res.error)
        return reply.code(200).send(res.result)
      },
    )
    app.get('/v1/wallets', { schema: { tags: ['owner'], summary: 'Public view of every wallet' } }, async (_req, reply) => {
      const res = await gateway.call({ type: 'getWallets' })
      if (!res.ok) return reply.code(errorStatus(res.error.code)).send(res.error)
      return reply.send(res.result)
    })
    app.get(
      '/v1/wallets/:address',
      { schema: { tags: ['owner'], summary: 'One wallet', params: z.object({ address: z.string().regex(/^0x[0-9a-fA-F]{40}$/) }) } },
      async (req, reply) => {
        const res = await gateway.call({ type: 'getWallets' })
        if (!res.ok) return reply.code(errorStatus(res.error.code)).send(res.error)
        const w = res.result.wallets.find((x) => x.address.toLowerCase() === req.params.address.toLowerCase())
        if (!w) return reply.code(404).send({ code: 'wallet_not_found', message: `No wallet ${req.params.address}` })
        return reply.send(w)
      },
    )
  }
}
