import { Agent as HttpAgent, type IncomingMessage, request as httpRequest } from 'node:http'

const agent = new HttpAgent({ keepAlive: true, scheduling: 'lifo' })

/**
 * A `fetch` for http: URLs over one node:http keep-alive pool (bench only): what a user can pass to
 * createPayingFetch({ fetch }) instead of the global (undici) fetch. WHATWG Request/Response objects stay at the
 * edges (@x402/fetch reads and clones them); the request itself skips undici's fetch machinery.
 */
export const keepAliveFetch: typeof globalThis.fetch = async (input, init) => {
  const req = input instanceof Request && init === undefined ? input : new Request(input, init)
  const url = new URL(req.url)
  const headers: Record<string, string> = {}
  req.headers.forEach((v, k) => {
    headers[k] = v
  })
  const body = req.body ? Buffer.from(await req.arrayBuffer()) : undefined
  if (body) headers['content-length'] = String(body.length)
  return new Promise<Response>((resolve, reject) => {
    const r = httpRequest(
      { agent, hostname: url.hostname, port: url.port, path: `${url.pathname}${url.search}`, method: req.method, headers },
      (res: IncomingMessage) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => {
          const h = new Headers()
          for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) h.set(k, Array.isArray(v) ? v.join(', ') : v)
          const status = res.statusCode ?? 0
          resolve(new Response(status === 204 || status === 304 ? null : Buffer.concat(chunks), { status, headers: h }))
        })
        res.on('error', reject)
      },
    )
    r.on('error', reject)
    r.end(body)
  })
}
