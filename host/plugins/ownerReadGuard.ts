import type { FastifyReply, FastifyRequest } from 'fastify'

/**
 * Access control for audit reads. The log is tamper-evident without it; this
 * only keeps other parties from reading it. Modes: 'open' (simulation
 * default) or a bearer token from BURSAR_AUDIT_TOKEN.
 */
export function ownerReadGuard(token: string | undefined) {
  return async (req: FastifyRequest, reply: FastifyReply) => {
    if (!token) return
    const got = req.headers.authorization
    if (got !== `Bearer ${token}`) {
      return reply.code(401).send({ code: 'audit_read_unauthorized', message: 'Send Authorization: Bearer <BURSAR_AUDIT_TOKEN>' })
    }
  }
}
