import { request } from 'node:http'
import { type AddressInfo, type Server, type Socket, createServer } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { postJson } from '../../agent/postJson.js'

/**
 * A host (or anything on the path) frames its answer so that readers disagree on where it ends or which headers it
 * has: whitespace before a colon, an obs-folded header, a bare CR or LF or NUL inside a line, a padded chunk size, a
 * bare LF in a chunk extension, a trailer that is no field line. An intermediary that reads such an answer one way
 * and the SDK's own HTTP/1.1 client (agent/postHttp1.ts) another is a response-smuggling desync. The client must
 * refuse every shape node:http (llhttp) refuses (checked here against node:http too), and still read the ones
 * llhttp reads.
 */
const servers: Server[] = []
const sockets = new Set<Socket>()
afterEach(async () => {
  for (const s of sockets) s.destroy()
  sockets.clear()
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r))
})

async function answering(raw: string): Promise<URL> {
  const server = createServer((s) => {
    sockets.add(s)
    s.on('error', () => {})
    s.once('data', () => s.write(raw))
  })
  servers.push(server)
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/agent/sign`)
}

const sdk = async (raw: string) =>
  postJson({ url: await answering(raw), body: '{}', timeoutMs: 2_000 }).then(
    (r) => `${r.status} ${r.text}`,
    (e: NodeJS.ErrnoException) => e.code,
  )
const nodeHttp = async (raw: string) => {
  const url = await answering(raw)
  return new Promise<string | undefined>((resolve) => {
    const req = request(url, { method: 'POST', agent: false }, (res) => {
      let text = ''
      res.on('data', (d: Buffer) => (text += d))
      res.on('end', () => resolve(`${res.statusCode} ${text}`))
      res.on('error', (e: NodeJS.ErrnoException) => resolve(e.code))
    })
    req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code))
    req.setTimeout(2_000, () => req.destroy())
    req.end('{}')
  })
}

const OK = 'HTTP/1.1 200 OK\r\n'
const CHUNKED = `${OK}Transfer-Encoding: chunked\r\n\r\n`
const refused: [string, string][] = [
  ['whitespace before the colon', `${OK}Content-Length : 2\r\n\r\n{}`],
  ['a tab before the colon', `${OK}Content-Length\t: 2\r\n\r\n{}`],
  ['an obs-folded Content-Length', `${OK}X-A: a\r\n Content-Length: 2\r\n\r\n{}`],
  ['a space inside a field name', `${OK}Content Length: 9\r\nContent-Length: 2\r\n\r\n{}`],
  ['a bare CR inside a field value', `${OK}X-A: a\rContent-Length: 9\r\nContent-Length: 2\r\n\r\n{}`],
  ['a bare LF inside a field value', `${OK}X-A: a\nContent-Length: 9\r\nContent-Length: 2\r\n\r\n{}`],
  ['a NUL inside a field value', `${OK}X-A: a\u0000b\r\nContent-Length: 2\r\n\r\n{}`],
  ['a bare LF inside the status line', 'HTTP/1.1 200 OK\nContent-Length: 9\r\nContent-Length: 2\r\n\r\n{}'],
  ['a chunk size padded with spaces', `${CHUNKED} 2 \r\n{}\r\n0\r\n\r\n`],
  ['a bare LF in a chunk extension', `${CHUNKED}2;a\nb\r\n{}\r\n0\r\n\r\n`],
  ['a bare CR in a chunk extension', `${CHUNKED}2;a\rb\r\n{}\r\n0\r\n\r\n`],
  ['a trailer that is no field line', `${CHUNKED}2\r\n{}\r\n0\r\nnot a field\r\n\r\n`],
]
const read: [string, string][] = [
  ['a chunk extension', `${CHUNKED}2;name="v"\r\n{}\r\n0\r\n\r\n`],
  ['a trailer field', `${CHUNKED}2\r\n{}\r\n0\r\nX-Trailer: t\r\n\r\n`],
  ['optional whitespace around a field value, a tab inside it', `${OK}X-A:\t a\tb \r\nContent-Length:  2\r\n\r\n{}`],
]

describe('a host frames its answer ambiguously (hostAnswerFramingAmbiguity)', () => {
  for (const [what, raw] of refused)
    it(`refused as node:http refuses it: ${what}`, async () => {
      expect(await nodeHttp(raw)).toMatch(/^HPE_/)
      // Before the fix the SDK's client trimmed its way to an answer ('200 {}') that llhttp never reads.
      expect(await sdk(raw)).toBe('HPE_INVALID')
    })
  for (const [what, raw] of read)
    it(`read as node:http reads it: ${what}`, async () => {
      expect(await nodeHttp(raw)).toBe('200 {}')
      expect(await sdk(raw)).toBe('200 {}')
    })
})
