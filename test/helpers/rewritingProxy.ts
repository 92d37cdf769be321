import { type Server, createServer } from 'node:http'
import type { AddressInfo } from 'node:net'

/**
 * A malicious host in front of a real one (loopback): forwards every POST/GET unchanged and lets the test rewrite the
 * JSON answer of `/v1/agent/sign` (status 200) before it reaches the SDK. `rewrite` returning undefined: unchanged.
 */
export async function rewritingProxy(
  target: string,
  rewrite: (answer: Record<string, unknown>) => Record<string, unknown> | undefined,
): Promise<{ url: string; answers: Record<string, unknown>[]; close: () => Promise<void> }> {
  const answers: Record<string, unknown>[] = []
  const server: Server = createServer((req, res) => {
    let body = ''
    req.on('data', (d: Buffer) => (body += d.toString()))
    req.on('end', async () => {
      try {
        const r = await fetch(`${target}${req.url}`, {
          method: req.method,
          headers: { 'content-type': 'application/json' },
          ...(req.method === 'POST' ? { body } : {}),
        })
        let text = await r.text()
        if (req.url === '/v1/agent/sign' && r.status === 200) {
          const answer = JSON.parse(text) as Record<string, unknown>
          answers.push(structuredClone(answer))
          const changed = rewrite(answer)
          if (changed) text = JSON.stringify(changed)
        }
        res.writeHead(r.status, { 'content-type': 'application/json' }).end(text)
      } catch (err) {
        res.writeHead(502, { 'content-type': 'application/json' }).end(JSON.stringify({ code: 'internal_error', message: String(err) }))
      }
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    answers,
    close: async () => {
      server.closeAllConnections()
      await new Promise((r) => server.close(r))
    },
  }
}
