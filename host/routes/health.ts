import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import type { EnclaveGateway } from '../enclave/EnclaveGateway.js'

/** Liveness (the host process answers) and readiness (enclave connected and its state loaded). */
export function healthRoutes(gateway: EnclaveGateway): FastifyPluginAsyncZod {
  return async (app) => {
    app.get('/healthz', { schema: { tags: ['health'], summary: 'Host liveness' } }, async () => ({ ok: true }))
    app.get('/readyz', { schema: { tags: ['health'], summary: 'Enclave connected and state loaded' } }, async (_req, reply) => {
      const s = gateway.status
      const body = {
        ready: s.ready,
        phase: s.phase,
        mode: s.mode,
        stateVersion: s.stateVersion,
        auditHead: s.auditHead,
        receiptPublicKey: s.receiptPublicKey,
        // gov36: governance's process, reported only: readiness stays the signer's (owner acts answer governance_unavailable).
        governance: gateway.governanceStatus,
        ...(s.lastError ? { lastError: s.lastError } : {}),
      }
      return reply.code(s.ready ? 200 : 503).send(body)
    })
  }
}
