import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { FastifyPluginAsync } from 'fastify'

const here = path.dirname(fileURLToPath(import.meta.url))
// host/routes/ when run from source, dist/ when bundled.
const CANDIDATES = [path.join(here, '..', 'dashboard', 'index.html'), path.join(here, '..', 'host', 'dashboard', 'index.html')]
const page = CANDIDATES.find((p) => existsSync(p))

/** The owner dashboard: one static page that reads the public API (signing happens in the owner's wallet or CLI). */
export function dashboardRoutes(): FastifyPluginAsync {
  return async (app) => {
    app.get('/', { schema: { hide: true } }, async (_req, reply) => {
      if (!page) return reply.code(404).send({ code: 'dashboard_missing', message: 'Dashboard files are not installed' })
      return reply.type('text/html').send(readFileSync(page, 'utf8'))
    })
  }
}
