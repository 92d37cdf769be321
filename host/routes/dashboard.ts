import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { FastifyPluginAsync } from 'fastify'

const here = path.dirname(fileURLToPath(import.meta.url))
// host/routes/ when run from source, dist/ when bundled.
const LEGACY = [path.join(here, '..', 'dashboard', 'index.html'), path.join(here, '..', 'host', 'dashboard', 'index.html')].find((p) => existsSync(p))
/** The built owner console (scripts/buildConsole.ts): dist/console beside the bundle, or under the repo when run from source. */
const CONSOLE_DIRS = [path.join(here, 'console'), path.join(here, '..', '..', 'dist', 'console')]
const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json; charset=utf-8',
}

/**
 * SECURITY: the pages never render inside another site's frame, which could steer the owner's clicks onto Connect,
 * Approve or Revoke under its own content (test/browser/consoleFramedForClickjacking).
 */
const NO_FRAMING = { 'content-security-policy': "frame-ancestors 'none'", 'x-frame-options': 'DENY' }

/**
 * UNTRUSTED: serves the owner console (static files, no CDN) at `/`, and the older read-only page at
 * `/dashboard` (also at `/` when the console is not built). The console signs every act in the owner's own
 * wallet; a host that serves altered page code is the residual risk the console states on its Trust tab.
 */
export function dashboardRoutes(): FastifyPluginAsync {
  const consoleDir = () => CONSOLE_DIRS.find((d) => existsSync(path.join(d, 'index.html')))
  return async (app) => {
    const legacy = (_req: unknown, reply: import('fastify').FastifyReply) => {
      if (!LEGACY) return reply.code(404).send({ code: 'dashboard_missing', message: 'Dashboard files are not installed' })
      return reply.type('text/html; charset=utf-8').headers(NO_FRAMING).send(readFileSync(LEGACY, 'utf8'))
    }
    app.get('/', { schema: { hide: true } }, async (req, reply) => {
      const dir = consoleDir()
      if (!dir) return legacy(req, reply)
      return reply.type(TYPES['.html']!).header('cache-control', 'no-cache').headers(NO_FRAMING).send(readFileSync(path.join(dir, 'index.html')))
    })
    app.get('/dashboard', { schema: { hide: true } }, legacy)
    app.get<{ Params: { file: string } }>('/assets/:file', { schema: { hide: true } }, async (req, reply) => {
      const dir = consoleDir()
      const name = req.params.file
      // SECURITY: one path segment of safe characters: nothing outside dist/console/assets is reachable.
      if (!dir || !/^[A-Za-z0-9_.-]{1,128}$/.test(name) || name.startsWith('.')) return reply.code(404).send({ code: 'not_found', message: 'No such asset' })
      const file = path.join(dir, 'assets', name)
      if (!existsSync(file)) return reply.code(404).send({ code: 'not_found', message: 'No such asset' })
      return reply
        .type(TYPES[path.extname(name)] ?? 'application/octet-stream')
        .header('cache-control', 'public, max-age=31536000, immutable')
        .send(readFileSync(file))
    })
  }
}
