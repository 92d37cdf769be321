import { readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { FastifyPluginAsync } from 'fastify'

const here = path.dirname(fileURLToPath(import.meta.url))

/** The owner dashboard: one static page that reads the public API (signing happens in the owner's wallet or CLI). */
export function dashboardRoutes(): FastifyPluginAsync {
  return async (app) => {
    app.get('/', { schema: { hide: true } }, async (_req, reply) => {
      const html = readFileSync(path.join(here, '..', 'dashboard', 'index.html'), 'utf8')
      return reply.type('text/html').send(html)
    })
  }
}
