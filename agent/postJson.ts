import { Agent as HttpAgent, type IncomingMessage, request as httpRequest } from 'node:http'
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https'
import { postHttp1 } from './postHttp1.js'

export type PostJsonParameters = {
  url: URL
  body: string
  timeoutMs: number
}
export type PostJsonReturnType = { status: number; text: string }

/** BURSAR_SDK_NODE_HTTP=1: http: through node:http's client as before postHttp1 (for comparison and as a fallback). */
const LEGACY_HTTP = process.env.BURSAR_SDK_NODE_HTTP === '1'

// One keep-alive pool per protocol for the whole process: no TCP (or TLS) handshake per request. http: goes through
// postHttp1's own minimal client and pool; https: through node's (TLS costs more than the client there).
const SWEEP_MS = 100
const POOLS = {
  http: new HttpAgent({ keepAlive: true, scheduling: 'lifo' }),
  https: new HttpsAgent({ keepAlive: true, scheduling: 'lifo' }),
}

type Watch = { deadline: number; abort: (err: Error) => void }
// Deadlines are swept by one timer for all requests (a socket timeout per request costs more than the request's own writes).
const IN_FLIGHT = new Set<Watch>()
let sweeper: NodeJS.Timeout | undefined

let lastWatched = 0

function watchDeadline(w: Watch): void {
  IN_FLIGHT.add(w)
  lastWatched = Date.now()
  if (sweeper) return
  sweeper = setInterval(() => {
    const now = Date.now()
    for (const x of IN_FLIGHT)
      if (x.deadline <= now) {
        IN_FLIGHT.delete(x)
        x.abort(Object.assign(new Error('no answer before the deadline'), { code: 'ETIMEDOUT' }))
      }
    // Stopped only after a quiet second (one request at a time would otherwise start and stop it per request).
    if (IN_FLIGHT.size === 0 && now - lastWatched > 1_000) {
      clearInterval(sweeper)
      sweeper = undefined
    }
  }, SWEEP_MS).unref()
}

/**
 * POSTs a JSON text over the process-wide keep-alive pool (postHttp1 for
 * http:, node:https for https:; no WHATWG fetch machinery) and returns the
 * status and body text. A request
 * that fails on a REUSED idle socket (the server closed it as we sent) is
 * sent once more on a fresh one: the body is the same signed text, which the
 * enclave answers at most once; if that copy is refused at connect, the reset
 * is what rejects (the first copy may have been read). Rejects with the
 * transport error otherwise.
 */
export function postJson(params: PostJsonParameters): Promise<PostJsonReturnType> {
  return postOnce(params).catch((err: unknown) => {
    if (!(err as { reusedSocket?: boolean }).reusedSocket || (err as NodeJS.ErrnoException).code !== 'ECONNRESET') throw err
    // A reset on a pooled socket does not say when: the host may have read the request (and decided and stored it)
    // before it died. If the fresh copy then finds the port closed, report the reset, never "connection refused"
    // (which the caller reads as "nothing was sent").
    return postOnce(params).catch((again: NodeJS.ErrnoException) => {
      throw again.code === 'ECONNREFUSED' ? err : again
    })
  })
}

function postOnce({ url, body, timeoutMs }: PostJsonParameters): Promise<PostJsonReturnType> {
  const https = url.protocol === 'https:'
  if (!https && !LEGACY_HTTP)
    return postHttp1({
      url,
      body,
      watch: (abort) => {
        const w = { deadline: Date.now() + timeoutMs, abort }
        watchDeadline(w)
        return () => IN_FLIGHT.delete(w)
      },
    })
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
    const watch = { deadline: Date.now() + timeoutMs, abort: (err: Error) => req.destroy(err) }
    watchDeadline(watch)
    req.on('close', () => IN_FLIGHT.delete(watch))
    req.on('error', (err) => reject(Object.assign(err, { reusedSocket: req.reusedSocket })))
    req.end(body)
  })
}
