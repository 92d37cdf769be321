import { Agent as HttpAgent, type IncomingMessage, request as httpRequest } from 'node:http'
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https'

export type PostJsonParameters = {
  url: URL
  body: string
  timeoutMs: number
}
export type PostJsonReturnType = { status: number; text: string }

// One keep-alive pool per protocol for the whole process: no TCP (or TLS) handshake per request. Idle sockets are unref'd by Node.
const POOLS = {
  http: new HttpAgent({ keepAlive: true, scheduling: 'lifo' }),
  https: new HttpsAgent({ keepAlive: true, scheduling: 'lifo' }),
}

/**
 * POSTs a JSON text over the process-wide keep-alive pool (node:http/https,
 * no WHATWG fetch machinery) and returns the status and body text. A request
 * that fails on a REUSED idle socket (the server closed it as we sent) is
 * sent once more on a fresh one: the body is the same signed text, which the
 * enclave answers at most once. Rejects with the transport error otherwise.
 */
export async function postJson(params: PostJsonParameters): Promise<PostJsonReturnType> {
  try {
    return await postOnce(params)
  } catch (err) {
    if ((err as { reusedSocket?: boolean }).reusedSocket && (err as NodeJS.ErrnoException).code === 'ECONNRESET') return postOnce(params)
    throw err
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
        timeout: timeoutMs,
      },
      (res: IncomingMessage) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8') }))
        res.on('error', reject)
      },
    )
    req.on('timeout', () => req.destroy(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' })))
    req.on('error', (err) => reject(Object.assign(err, { reusedSocket: req.reusedSocket })))
    req.end(body)
  })
}
