import type { FastifyInstance } from 'fastify'

/**
 * UNTRUSTED host: lets a browser page from another origin (the owner console run from a local copy) call the
 * API. Safe to open because nothing rides on ambient credentials: reads need an explicit Authorization header
 * (owner read token) and every act carries the owner's own signature.
 */
export function corsHook(app: FastifyInstance, origins: readonly string[]): void {
  const any = origins.includes('*')
  app.addHook('onRequest', async (req, reply) => {
    const origin = req.headers.origin
    if (!origin || (!any && !origins.includes(origin))) return
    reply.header('access-control-allow-origin', any ? '*' : origin)
    reply.header('vary', 'origin')
    if (req.method === 'OPTIONS') {
      reply.header('access-control-allow-methods', 'GET, POST, PUT')
      reply.header('access-control-allow-headers', 'authorization, content-type')
      reply.header('access-control-max-age', '600')
      return reply.code(204).send()
    }
  })
}
