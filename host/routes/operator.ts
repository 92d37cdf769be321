import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { EnclaveGateway } from '../enclave/EnclaveGateway.js'
import type { ownerReadGuard } from '../plugins/ownerReadGuard.js'
import { errorStatus } from '../plugins/errorStatus.js'

/**
 * Issue 15 step 3, operator only (`Authorization: Bearer <BURSAR_AUDIT_TOKEN>`, whatever BURSAR_AUDIT_AUTH says; no
 * token configured = refused): move one wallet between enclaves. `drop` makes this host's enclave seal the wallet's
 * final blob and forget it (stored before the answer); `load` hands the enclave the wallet's newest stored blob and its
 * stored entries after it. What step 4's per-wallet leases drive; by hand until then (docs/scale.md). A LOST lease is
 * not a drop: crash-only, the pair restarts.
 */
export function operatorRoutes(gateway: EnclaveGateway, guard: ReturnType<typeof ownerReadGuard>): FastifyPluginAsyncZod {
  return async (app) => {
    const params = z.object({ address: z.string().regex(/^0x[0-9a-fA-F]{40}$/), op: z.enum(['drop', 'load']) })
    app.post(
      '/v1/operator/wallets/:address/:op',
      { schema: { tags: ['operator'], summary: 'Drop a wallet from this enclave (seal its final blob, forget it) or load it from the store (operator token)', params } },
      async (req, reply) => {
        const scope = await guard(req)
        if ('status' in scope || scope.kind !== 'all' || scope.via !== 'operator') {
          const failure = 'status' in scope ? scope : { code: 'audit_operator_token_invalid', message: 'Operator endpoints need Authorization: Bearer <BURSAR_AUDIT_TOKEN>' }
          return reply.code(401).header('www-authenticate', 'Bearer').send({ code: failure.code, message: failure.message })
        }
        const { address, op } = req.params
        const res = op === 'drop' ? await gateway.dropWallet(address) : await gateway.loadWallet(address)
        if (!res.ok) return reply.code(errorStatus(res.error.code)).send(res.error)
        return reply.send(res.result)
      },
    )
  }
}
