import { type AddressInfo, type Server, type Socket, createServer } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { postJson } from './postJson.js'

/**
 * The SDK's own HTTP/1.1 client (postHttp1, behind postJson for http:) against raw TCP servers that answer byte by
 * byte exactly as written here: framing, keep-alive reuse, a server closing or resetting pooled sockets, deadlines.
 */
type Got = { conn: number; raw: string }
const servers: Server[] = []
const sockets = new Set<Socket>()
afterEach(async () => {
  for (const s of sockets) s.destroy()
  sockets.clear()
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r))
})

/** A server that calls `answer` once per complete request it reads (head + Content-Length body). */
async function rawServer(answer: (s: Socket, got: Got, n: number) => void): Promise<{ url: URL; requests: Got[]; conns: () => number }> {
  const requests: Got[] = []
  let conns = 0
  const server = createServer((s) => {
    const conn = ++conns
    sockets.add(s)
    let buf = Buffer.alloc(0)
    s.on('error', () => {})
    s.on('data', (d) => {
      buf = Buffer.concat([buf, d])
      for (;;) {
        const end = buf.indexOf('\r\n\r\n')
        if (end < 0) return
        const len = Number(/content-length: *(\d+)/i.exec(buf.toString('latin1', 0, end))?.[1] ?? 0)
        if (buf.length < end + 4 + len) return
        const got = { conn, raw: buf.toString('utf8', 0, end + 4 + len) }
        buf = buf.subarray(end + 4 + len)
        requests.push(got)
        answer(s, got, requests.length)
      }
    })
  })
  servers.push(server)
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const { port } = server.address() as AddressInfo
  return { url: new URL(`http://127.0.0.1:${port}/v1/agent/sign?x=1`), requests, conns: () => conns }
}

const post = (url: URL, body = '{"a":"é✓"}', timeoutMs = 5_000) => postJson({ url, body, timeoutMs })
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
/**
 * Sleeps, then lets one poll phase run (suite39): on a loaded machine a timer can fire in the same loop turn as the
 * server's write or FIN, before the client's socket has read them; the next check phase comes after a poll phase.
 */
const settle = async (ms: number) => {
  await sleep(ms)
  await new Promise((r) => setImmediate(r))
}
/** Writes `text` one byte at a time with a pause between bytes (every split point of the framing is crossed). */
async function trickle(s: Socket, text: string | Buffer): Promise<void> {
  const b = Buffer.isBuffer(text) ? text : Buffer.from(text, 'utf8')
  for (let i = 0; i < b.length; i++) {
    s.write(b.subarray(i, i + 1))
    if (i % 7 === 0) await sleep(1)
  }
}
const ok = (body: string, extra = '') => `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`

describe('postHttp1 (the SDK transport for http: hosts)', () => {
  it('sends one well-formed POST (UTF-8 Content-Length, path and query, Host) and reads a Content-Length answer split byte by byte', async () => {
    const body = '{"signature":"0x01","note":"naïve ✓ 😀"}'
    const h = await rawServer((s) => void trickle(s, ok(body)))
    const res = await post(h.url)
    expect(res).toEqual({ status: 200, text: body })
    const raw = h.requests[0]!.raw
    expect(raw.startsWith(`POST /v1/agent/sign?x=1 HTTP/1.1\r\n`)).toBe(true)
    expect(raw).toContain(`\r\nHost: ${h.url.host}\r\n`)
    expect(raw).toContain(`\r\nContent-Length: ${Buffer.byteLength('{"a":"é✓"}')}\r\n`)
    expect(raw.endsWith('\r\n\r\n{"a":"é✓"}')).toBe(true)
  })

  it('reads chunked answers (extensions, trailers, split anywhere), an answer delimited by the close, and skips 100 Continue', async () => {
    const chunked = 'HTTP/1.1 202 Accepted\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\n{"a":\r\n5\r\n"é"}\r\n0\r\nX-Trailer: t\r\n\r\n'
    const h = await rawServer((s, _g, n) => {
      if (n === 1) void trickle(s, chunked)
      else if (n === 2) s.end('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\r\n{"to":"close"}')
      else s.write(`HTTP/1.1 100 Continue\r\n\r\n${ok('{"after":"100"}')}`)
    })
    expect(await post(h.url)).toEqual({ status: 202, text: '{"a":"é"}' })
    expect(await post(h.url)).toEqual({ status: 200, text: '{"to":"close"}' })
    expect(await post(h.url)).toEqual({ status: 200, text: '{"after":"100"}' })
    expect(h.conns()).toBe(2) // the close-delimited answer ended its socket; the chunked one was reused
  })

  it('reuses one keep-alive socket for sequential requests, and not after Connection: close or unsolicited bytes', async () => {
    let chatter: Socket | undefined
    const h = await rawServer((s, _g, n) => {
      s.write(ok(`{"n":${n}}`, n === 3 ? 'Connection: close\r\n' : ''))
      if (n === 5) chatter = s
    })
    for (let i = 1; i <= 5; i++) expect((await post(h.url)).text).toBe(`{"n":${i}}`)
    expect(h.requests.map((r) => r.conn)).toEqual([1, 1, 1, 2, 2])
    chatter!.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}') // bytes nobody asked for on an idle socket
    await settle(50)
    expect((await post(h.url)).text).toBe('{"n":6}')
    expect(h.requests[5]!.conn).toBe(3)
  })

  it('a pooled socket the server closed while idle is dropped: the next request goes out on a fresh one', async () => {
    const h = await rawServer((s, _g, n) => {
      s.write(ok(`{"n":${n}}`))
      if (n === 1) setTimeout(() => s.end(), 20) // keep-alive timeout on the server side
    })
    expect((await post(h.url)).text).toBe('{"n":1}')
    await settle(100)
    expect((await post(h.url)).text).toBe('{"n":2}')
    expect(h.requests.map((r) => r.conn)).toEqual([1, 2])
  })

  it('a server that answers keep-alive and closes at once: back-to-back requests all get their answer; a copy that met the closing socket is resent as the same bytes', async () => {
    const h = await rawServer((s, g) => {
      if (!s.writable) return // the copy that arrived on the socket this server had already closed: never answered
      s.write(ok(`{"id":${/"id":(\d+)/.exec(g.raw)![1]}}`))
      s.end() // FIN right behind the answer
    })
    for (let i = 1; i <= 20; i++) expect((await post(h.url, `{"id":${i}}`)).text).toBe(`{"id":${i}}`)
    const bodies = h.requests.map((r) => r.raw)
    expect(new Set(bodies).size).toBe(20) // every request arrived; any extra arrival is a byte-identical resend
    for (const b of bodies) expect(bodies.filter((x) => x === b).length).toBeLessThanOrEqual(2)
  })

  it('a reset on a reused socket is resent once on a fresh socket (the same bytes); a reset on a fresh socket rejects ECONNRESET', async () => {
    const h = await rawServer((s, _g, n) => {
      if (n === 2) s.resetAndDestroy() // the server died as our request arrived on the pooled socket
      else if (n === 4) s.resetAndDestroy()
      else s.write(ok(`{"n":${n}}`))
    })
    expect((await post(h.url)).text).toBe('{"n":1}')
    expect((await post(h.url)).text).toBe('{"n":3}')
    expect(h.requests[1]!.raw).toBe(h.requests[2]!.raw)
    expect(h.requests.map((r) => r.conn)).toEqual([1, 1, 2])
    // A fresh socket (nothing idle: the previous one is closed first).
    await settle(20)
    const h2 = await rawServer((s) => s.resetAndDestroy())
    const err = (await post(h2.url).catch((e) => e)) as NodeJS.ErrnoException & { reusedSocket?: boolean }
    expect(err.code).toBe('ECONNRESET')
    expect(err.reusedSocket).toBe(false)
    expect(h2.requests).toHaveLength(1)
  })

  it('a server that closes a reused socket before answering (no reset) is "socket hang up" ECONNRESET: resent once', async () => {
    const h = await rawServer((s, _g, n) => (n === 2 ? s.end() : s.write(ok(`{"n":${n}}`))))
    expect((await post(h.url)).text).toBe('{"n":1}')
    expect((await post(h.url)).text).toBe('{"n":3}')
    expect(h.requests).toHaveLength(3)
  })

  it('connection refused rejects ECONNREFUSED; no answer rejects ETIMEDOUT at the deadline', async () => {
    const closed = await rawServer(() => {})
    const url = closed.url
    await new Promise((r) => servers.pop()!.close(r)) // nothing listens on this port any more
    const refused = (await post(url).catch((e) => e)) as NodeJS.ErrnoException
    expect(refused.code).toBe('ECONNREFUSED')
    const silent = await rawServer(() => {})
    const t0 = Date.now()
    const timedOut = (await post(silent.url, '{}', 300).catch((e) => e)) as NodeJS.ErrnoException
    expect(timedOut.code).toBe('ETIMEDOUT')
    expect(Date.now() - t0).toBeGreaterThanOrEqual(290)
    // The 300 ms deadline, not a later one: the bound leaves a loaded machine seconds of slack (suite39: was 1.5 s).
    expect(Date.now() - t0).toBeLessThan(10_000)
  })

  it('refuses malformed answers: a bad status line, both Content-Length and chunked, a bad chunk size, conflicting lengths', async () => {
    const answers = [
      'HTTX/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}',
      'HTTP/1.1 200 OK\r\ncontent-length: 2\r\ntransfer-encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n',
      'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n',
      'HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-length: 3\r\n\r\n{}',
      'HTTP/1.1 200 OK\r\nno colon here\r\n\r\n{}',
    ]
    for (const a of answers) {
      const h = await rawServer((s) => s.write(a))
      const err = (await post(h.url).catch((e) => e)) as NodeJS.ErrnoException
      expect(err.code, a).toBe('HPE_INVALID')
    }
  })

  it('an endless answer from an untrusted host is cut off (8 MiB), in pieces or not', async () => {
    const piece = Buffer.alloc(64 * 1024, 0x20)
    for (const framing of ['content-length: 100000000', 'transfer-encoding: chunked']) {
      const h = await rawServer((s) => {
        s.write(`HTTP/1.1 200 OK\r\n${framing}\r\n\r\n`)
        const chunked = framing.includes('chunked')
        let sent = 0
        const more = () => {
          while (sent < 9 * 1024 * 1024 && !s.destroyed) {
            sent += piece.length
            const ok = s.write(chunked ? Buffer.concat([Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n')]) : piece)
            if (!ok) return void s.once('drain', more)
          }
        }
        more()
      })
      // suite40: HPE_INVALID "longer than" is the proof it was cut at the bound (at the 20 s deadline it is ETIMEDOUT);
      // the wall bound that was here (< 10 s) added only a loaded box's flake.
      const err = (await post(h.url, '{}', 20_000).catch((e) => e)) as NodeJS.ErrnoException
      expect(err.code, framing).toBe('HPE_INVALID')
      expect(err.message).toContain('longer than')
    }
  })

  it('64 requests in flight at once each get their own answer', async () => {
    const h = await rawServer((s, g) => {
      const id = /"id":(\d+)/.exec(g.raw)![1]
      setTimeout(() => s.write(ok(`{"id":${id}}`)), Math.random() * 10)
    })
    for (let round = 0; round < 3; round++) {
      const got = await Promise.all(Array.from({ length: 64 }, (_, i) => post(h.url, `{"id":${i}}`)))
      expect(got.map((r) => r.text)).toEqual(Array.from({ length: 64 }, (_, i) => `{"id":${i}}`))
    }
    expect(h.conns()).toBe(64)
  })
})
