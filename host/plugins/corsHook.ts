import type { FastifyInstance } from 'fastify'

/**
 * UNTRUSTED host: lets a browser page from another origin (the owner console run from a local copy) call the
 * API. Safe to open because nothing rides on ambient credentials: reads need an explicit Authorization header
 * (owner read token) and every act carries the owner's own signature.
 */
export function corsHook(app: FastifyInstance, origins: readonly string[]): void {
  const any = origins.includes('*')
  // A callback hook: no promise per request (issue 18). A preflight is answered here, without calling done().
  app.addHook('onRequest', (req, reply, done) => {
    const origin = req.headers.origin
    if (!origin || (!any && !origins.includes(origin))) return done()
    reply.header('access-control-allow-origin', any ? '*' : origin)
    reply.header('vary', 'origin')
    if (req.method === 'OPTIONS') {
      reply.header('access-control-allow-methods', 'GET, POST, PUT')
      reply.header('access-control-allow-headers', 'authorization, content-type')
      reply.header('access-control-max-age', '600')
      reply.code(204).send()
      return
    }
    done()
  })
}
