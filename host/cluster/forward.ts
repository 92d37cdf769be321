/**
 * UNTRUSTED: scale-out mode. A host that does not hold the wallet group's lease forwards every API request (bytes
 * unchanged, before parsing) to the holder's URL and streams the answer back, so agents, owners and SDKs may use
 * any host of the cluster. Chosen over redirects: POST bodies, the Python SDK (httpx does not follow redirects)
 * and the CLI need nothing new. A request already forwarded once is never forwarded again (no loops): it gets
 * 503 lease_not_held, which every SDK retries with the same bytes. `/healthz` and `/v1/cluster` answer locally.
 */
import http from 'node:http'
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify'
import { ERROR_CODES } from '../../shared/errors/errorCodes.js'
import type { LeaseKeeper } from './LeaseKeeper.js'

// /metrics: each host is scraped for its own numbers (a standby's would otherwise be the holder's).
export const LOCAL = new Set(['/healthz', '/v1/cluster', '/metrics'])
export const FORWARDED = 'x-bursar-forwarded'
const HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'host', 'upgrade', 'proxy-connection'])
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 })

/** `GET /v1/cluster`: this host's role and the lease as it last read it. */
export function clusterRoutes(keeper: LeaseKeeper, node: string) {
  return async (app: FastifyInstance) => {
    app.get('/v1/cluster', { schema: { tags: ['health'], summary: 'Scale-out mode: this host\'s role and the wallet group\'s lease holder' } }, async () => ({
      node,
      group: keeper.opts.group,
      role: keeper.role,
      epoch: keeper.role === 'holder' ? keeper.epoch : null,
      holder: keeper.current ? { node: keeper.current.holder, url: keeper.current.url, epoch: keeper.current.epoch } : null,
      acquiredAt: keeper.acquiredAt,
    }))
  }
}

/** The root onRequest hook: requests pass through on the holder, are forwarded from a standby. */
export function clusterForwardHook(keeper: LeaseKeeper, node: string): onRequestHookHandler {
  return (req, reply, done) => {
    const path = req.url.split('?')[0]!
    if (LOCAL.has(path) || keeper.role === 'holder') return done()
    const refuse = (why: string) => {
      reply.code(503).header('retry-after', '1').send({ code: 'lease_not_held', message: why, hint: ERROR_CODES.lease_not_held.hint })
    }
    if (keeper.role === 'lost') return refuse('This host lost the wallet group lease and is stopping')
    if (req.headers[FORWARDED]) return refuse('Forwarded to a host that does not hold the lease (a takeover is under way)')
    const forward = () => {
      const target = keeper.current?.url
      // Readiness with no holder to ask: this host's own status (phase standby, not ready).
      if ((!target || target === keeper.opts.url) && path === '/readyz') return done()
      if (!target || target === keeper.opts.url) return refuse('No host holds the wallet group lease right now')
      proxyTo(target, req, reply, node, null)
    }
    // No holder known yet (just started): read the lease row once before refusing.
    if (keeper.current && keeper.current.url !== keeper.opts.url) return forward()
    keeper.refresh().then(forward, () => refuse('The lease table could not be read'))
  }
}

/**
 * Forwards one request to `target` (the holder's URL) and streams the answer back; `body`: the bytes already read
 * (per-wallet routing reads the body to find the wallet), else the request stream is piped on.
 */
export function proxyTo(target: string, req: FastifyRequest, reply: FastifyReply, node: string, body: Buffer | null): void {
  // SECURITY: only an origin-form target (`/path?query`) goes on, to the holder's host and port. An absolute-form
  // (`http://169.254.169.254/…`) or scheme-relative (`//10.0.0.5/…`) target resolved against the holder's URL
  // would name another host: an SSRF that reads the answer (test/adversarial/clusterForwardToAnyUrl).
  if (!req.url.startsWith('/') || req.url.startsWith('//'))
    return void reply.code(400).send({ code: 'request_invalid', message: 'The request target must be a path (/…)' })
  reply.hijack()
  const headers: http.OutgoingHttpHeaders = {}
  for (const [k, v] of Object.entries(req.headers)) if (!HOP.has(k)) headers[k] = v
  headers[FORWARDED] = node
  const u = new URL(target)
  const up = http.request({ host: u.hostname, port: u.port, path: req.url, method: req.method, headers, agent }, (res) => {
    const out: http.OutgoingHttpHeaders = {}
    for (const [k, v] of Object.entries(res.headers)) if (!HOP.has(k) && v !== undefined) out[k] = v
    reply.raw.writeHead(res.statusCode ?? 502, out)
    res.pipe(reply.raw)
  })
  up.on('error', () => {
    if (reply.raw.headersSent) return reply.raw.destroy()
    reply.raw.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1' })
    reply.raw.end(JSON.stringify({ code: 'lease_not_held', message: 'The lease holder did not answer (it may be failing over)', hint: ERROR_CODES.lease_not_held.hint }))
  })
  if (body) up.end(body)
  else req.raw.pipe(up)
}
