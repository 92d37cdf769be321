import { type ClientRequest, Agent as HttpAgent, type IncomingMessage, request as httpRequest } from 'node:http'
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https'

export type PostJsonParameters = {
  url: URL
  body: string
  timeoutMs: number
}
export type PostJsonReturnType = { status: number; text: string }

// One keep-alive pool per protocol for the whole process: no TCP (or TLS) handshake per request. Idle sockets are unref'd by Node.
const SWEEP_MS = 100
const POOLS = {
  http: new HttpAgent({ keepAlive: true, scheduling: 'lifo' }),
  https: new HttpsAgent({ keepAlive: true, scheduling: 'lifo' }),
}

// Deadlines are swept by one timer for all requests (a socket timeout per request costs more than the request's own writes).
const IN_FLIGHT = new Set<{ req: ClientRequest; deadline: number }>()
let sweeper: NodeJS.Timeout | undefined

function watchDeadline(w: { req: ClientRequest; deadline: number }): void {
  IN_FLIGHT.add(w)
  if (sweeper) return
  sweeper = setInterval(() => {
    const now = Date.now()
    for (const x of IN_FLIGHT)
      if (x.deadline <= now) {
        IN_FLIGHT.delete(x)
        x.req.destroy(Object.assign(new Error('no answer before the deadline'), { code: 'ETIMEDOUT' }))
      }
    if (IN_FLIGHT.size === 0) {
      clearInterval(sweeper)
      sweeper = undefined
    }
  }, SWEEP_MS).unref()
}

/**
 * POSTs a JSON text over the process-wide keep-alive pool (node:http/https,
 * no WHATWG fetch machinery) and returns the status and body text. A request
 * that fails on a REUSED idle socket (the server closed it as we sent) is
 * sent once more on a fresh one: the body is the same signed text, which the
 * enclave answers at most once; if that copy is refused at connect, the reset
 * is what rejects (the first copy may have been read). Rejects with the
 * transport error otherwise.
 */
export async function postJson(params: PostJsonParameters): Promise<PostJsonReturnType> {
  try {
    return await postOnce(params)
  } catch (err) {
    if (!(err as { reusedSocket?: boolean }).reusedSocket || (err as NodeJS.ErrnoException).code !== 'ECONNRESET') throw err
    // A reset on a pooled socket does not say when: the host may have read the request (and decided and stored it)
    // before it died. If the fresh copy then finds the port closed, report the reset, never "connection refused"
    // (which the caller reads as "nothing was sent").
    return await postOnce(params).catch((again: NodeJS.ErrnoException) => {
      throw again.code === 'ECONNREFUSED' ? err : again
    })
  }
}

function postOnce({ url, body, timeoutMs }: PostJsonParameters): Promise<PostJsonReturnType> {
  const https = url.protocol === 'https:'
  return new Promise((resolve, reject) => {
    const req = (https ? httpsRequest : httpRequest)(
      {
        agent: https ? POOLS.https : POOLS.http,
        protocol: url.protocol,
        hostname: url.hostname.replace(/^\[|\]$/g, ''),
        port: url.port,
        path: `${url.pathname}${url.search}`,
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res: IncomingMessage) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8') }))
        res.on('error', reject)
      },
    )
    const watch = { req, deadline: Date.now() + timeoutMs }
    watchDeadline(watch)
    req.on('close', () => IN_FLIGHT.delete(watch))
    req.on('error', (err) => reject(Object.assign(err, { reusedSocket: req.reusedSocket })))
    req.end(body)
  })
}
