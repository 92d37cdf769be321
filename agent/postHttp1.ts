import { type Socket, connect } from 'node:net'

export type PostHttp1Parameters = {
  url: URL
  body: string
  /** Called once with a function that aborts this request (the caller's deadline sweeper); answers its undo, called when the request settles. */
  watch: (abort: (err: Error) => void) => () => void
}
export type PostHttp1ReturnType = { status: number; text: string }
/** Errors carry `reusedSocket`: true when the request went out on a pooled socket that served an earlier answer. */
export type PostHttp1Error = Error & { code?: string; reusedSocket?: boolean }

const MAX_HEAD = 64 * 1024
// Far above any sign answer (the host takes requests up to 1 MiB); the host is untrusted, so its answer is bounded.
const MAX_ANSWER = 8 * 1024 * 1024
const CRLF2 = Buffer.from('\r\n\r\n')
const CRLF = Buffer.from('\r\n')
// Idle keep-alive sockets per origin (host:port), most recently used last (LIFO, as node's Agent 'lifo').
const IDLE = new Map<string, Conn[]>()
const NOOP = () => {}
const EMPTY = Buffer.alloc(0)

type Pending = {
  resolve: (r: PostHttp1ReturnType) => void
  reject: (err: PostHttp1Error) => void
  reused: boolean
  unwatch: () => void
  chunks: Buffer[]
  /** Bytes in `chunks` (the unparsed rest of the answer). */
  size: number
  /** Every byte read for this request, 1xx and consumed chunks included (bounded by MAX_ANSWER). */
  seen: number
  /** No parse is tried before `size` reaches this (a known length, a chunk's data still on its way). */
  need: number
  /** The last (up to 3) bytes read while the head is incomplete: a CRLFCRLF may straddle two reads. */
  tail: Buffer
  head: Head | undefined
  /** A chunked body: the chunks decoded so far (set when the head says chunked), and whether the last chunk was read (trailers follow). */
  parts: Buffer[] | undefined
  trailers: boolean
}
type Head = { status: number; bodyStart: number; length: number | undefined; chunked: boolean; keepAlive: boolean }

/**
 * One pooled TCP connection. Its listeners are attached once and route events to the request it serves (at most
 * one: no pipelining); an idle socket that errs or closes leaves the pool.
 */
class Conn {
  pending: Pending | undefined
  closed = false

  constructor(
    readonly socket: Socket,
    readonly origin: string,
  ) {
    socket.setNoDelay(true)
    socket.on('data', (d: Buffer) => this.onData(d))
    socket.on('error', (err: PostHttp1Error) => this.fail(err))
    // The server's FIN: an idle socket leaves the pool at once (a request in flight learns of it at 'close').
    socket.on('end', () => {
      if (!this.pending) this.leavePool()
    })
    socket.on('close', () => {
      this.closed = true
      this.fail(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))
    })
  }

  send(head: string, body: string, p: Pending): void {
    this.pending = p
    this.socket.ref()
    this.socket.write(head + body, 'utf8')
  }

  private onData(d: Buffer): void {
    const p = this.pending
    if (!p) {
      // Bytes nobody asked for on an idle socket: it is out of step with the server; never reuse it.
      this.socket.destroy()
      return
    }
    p.chunks.push(d)
    p.size += d.length
    p.seen += d.length
    if (p.seen > MAX_ANSWER) {
      this.fail(parseError(`answer longer than ${MAX_ANSWER} bytes`))
      return
    }
    // Linear in the answer's size however it is cut: nothing is joined or re-parsed until progress is possible.
    if (p.size < p.need) return
    if (!p.head && !d.includes(CRLF2)) {
      // The head's end may straddle this read and the last ones (kept: their last 3 bytes).
      const edge = Buffer.concat([p.tail, d.subarray(0, 3)])
      p.tail = d.length >= 3 ? d.subarray(d.length - 3) : edge.subarray(-3)
      if (!edge.includes(CRLF2) && p.size <= MAX_HEAD) return
    }
    let res: { status: number; text: string; keepAlive: boolean; extra: boolean } | undefined
    try {
      res = parseResponse(p, false)
    } catch (err) {
      this.fail(err as PostHttp1Error)
      return
    }
    if (res) this.finish(res)
  }

  private finish(res: { status: number; text: string; keepAlive: boolean; extra: boolean }): void {
    const p = this.pending!
    this.pending = undefined
    p.unwatch()
    if (res.keepAlive && !res.extra && !this.closed) {
      this.socket.unref()
      let idle = IDLE.get(this.origin)
      if (!idle) IDLE.set(this.origin, (idle = []))
      idle.push(this)
    } else this.socket.destroy()
    p.resolve({ status: res.status, text: res.text })
  }

  /** The request in flight (if any) fails with `err`; the socket is closed and leaves the pool. */
  fail(err: PostHttp1Error): void {
    const p = this.pending
    this.pending = undefined
    this.leavePool()
    if (!this.closed) this.socket.destroy()
    if (!p) return
    p.unwatch()
    // A server that closes without a length delimits the body by the close: that is a complete answer.
    if (this.closed && p.head && !p.head.chunked && p.head.length === undefined) {
      try {
        const res = parseResponse(p, true)
        if (res) {
          p.resolve({ status: res.status, text: res.text })
          return
        }
      } catch {}
    }
    p.reject(Object.assign(err, { reusedSocket: p.reused }))
  }

  /** Still fit to carry a request (not closing, not half-closed by the server). */
  get usable(): boolean {
    return !this.closed && !this.socket.destroyed && this.socket.writable && this.socket.readable
  }

  private leavePool(): void {
    const idle = IDLE.get(this.origin)
    const i = idle ? idle.indexOf(this) : -1
    if (i >= 0) idle!.splice(i, 1)
  }
}

/**
 * POSTs `body` (a JSON text) to an http: URL over a process-wide pool of keep-alive sockets with a minimal
 * HTTP/1.1 client: one write per request (head + body), the answer framed by Content-Length, chunked encoding or
 * the close; 1xx interim answers are skipped. About a quarter of node:http's CPU per request (no ClientRequest,
 * IncomingMessage streams or per-request listeners). Rejects with the socket's error (ECONNREFUSED, ECONNRESET,
 * 'socket hang up' as ECONNRESET when the server closes before a whole answer) or a parse error (code
 * HPE_INVALID); `reusedSocket` says whether a pooled socket was used, as node:http's does.
 */
export function postHttp1({ url, body, watch }: PostHttp1Parameters): Promise<PostHttp1ReturnType> {
  const hostname = url.hostname.replace(/^\[|\]$/g, '')
  const port = Number(url.port || 80)
  const origin = `${hostname}\u0000${port}`
  const head =
    `POST ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: application/json\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: keep-alive\r\n\r\n`
  return new Promise((resolve, reject) => {
    const idle = IDLE.get(origin)
    let conn = idle?.pop()
    while (conn && !conn.usable) {
      conn.socket.destroy()
      conn = idle!.pop()
    }
    const reused = conn !== undefined
    if (!conn) conn = new Conn(connect({ host: hostname, port }), origin)
    const c = conn
    const p: Pending = { resolve, reject, reused, unwatch: NOOP, chunks: [], size: 0, seen: 0, need: 0, tail: EMPTY, head: undefined, parts: undefined, trailers: false }
    p.unwatch = watch((err) => {
      if (c.pending === p) c.fail(err)
    })
    c.send(head, body, p)
  })
}

function parseError(what: string): PostHttp1Error {
  return Object.assign(new Error(`malformed HTTP answer: ${what}`), { code: 'HPE_INVALID' })
}

/** The answer once complete (undefined: more bytes needed). `atClose`: the server closed the connection. */
function parseResponse(p: Pending, atClose: boolean): { status: number; text: string; keepAlive: boolean; extra: boolean } | undefined {
  let buf = p.chunks.length === 1 ? p.chunks[0]! : Buffer.concat(p.chunks, p.size)
  if (p.chunks.length > 1) p.chunks = [buf]
  while (!p.head) {
    const end = buf.indexOf(CRLF2)
    if (end < 0) {
      if (buf.length > MAX_HEAD) throw parseError('head too large')
      return undefined
    }
    const head = parseHead(buf.toString('latin1', 0, end), end + 4)
    if (head.status >= 100 && head.status < 200) {
      // An interim answer (100 Continue, 103 Early Hints): the real one follows.
      buf = buf.subarray(end + 4)
      p.chunks = [buf]
      p.size = buf.length
      continue
    }
    p.head = head
    // A length: nothing to parse before it is all here; none (the close delimits): nothing before the close.
    p.need = head.chunked ? 0 : head.length !== undefined ? end + 4 + head.length : Number.POSITIVE_INFINITY
    if (head.chunked) {
      // The chunked body is decoded as it comes; only its undecoded rest is kept in `chunks`.
      buf = buf.subarray(end + 4)
      p.chunks = [buf]
      p.size = buf.length
      p.parts = []
      head.bodyStart = 0
    }
  }
  const h = p.head
  const keepAlive = h.keepAlive
  if (h.status === 204 || h.status === 304) return { status: h.status, text: '', keepAlive, extra: buf.length > h.bodyStart }
  if (h.chunked) {
    const end = dechunk(p, buf)
    if (end === undefined) return undefined
    return { status: h.status, text: Buffer.concat(p.parts!).toString('utf8'), keepAlive, extra: end < buf.length }
  }
  if (h.length !== undefined) {
    if (buf.length < h.bodyStart + h.length) return undefined
    return { status: h.status, text: buf.toString('utf8', h.bodyStart, h.bodyStart + h.length), keepAlive, extra: buf.length > h.bodyStart + h.length }
  }
  // No length: the body runs to the close.
  if (!atClose) return undefined
  return { status: h.status, text: buf.toString('utf8', h.bodyStart), keepAlive: false, extra: false }
}

// Framing is read as llhttp (node:http) reads it, or refused: a lenient reading an intermediary does not share is
// how answers are smuggled. A field line is `token:value` (no whitespace before the colon, no obs-fold), and no
// line holds a control byte (a bare CR or LF, NUL) other than HTAB.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
const BAD_BYTE = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]|\r(?!\n)|(?<!\r)\n/
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f]/
const CHUNK_SIZE_LINE = /^([0-9a-fA-F]{1,8})(?:[ \t]*;[^\x00-\x08\x0a-\x1f\x7f]*)?$/

/** The index of a field line's colon after a token name; throws otherwise. */
function fieldColon(line: string, what: string): number {
  const colon = line.indexOf(':')
  if (colon <= 0 || !TOKEN.test(line.slice(0, colon))) throw parseError(what)
  return colon
}

/** `s` without leading and trailing spaces and tabs (HTTP's OWS; not String.trim, which also strips U+00A0). */
function ows(s: string): string {
  let a = 0
  let b = s.length
  while (a < b && (s.charCodeAt(a) === 32 || s.charCodeAt(a) === 9)) a++
  while (b > a && (s.charCodeAt(b - 1) === 32 || s.charCodeAt(b - 1) === 9)) b--
  return s.slice(a, b)
}

function parseHead(text: string, bodyStart: number): Head {
  if (BAD_BYTE.test(text)) throw parseError('control byte in the head')
  const lines = text.split('\r\n')
  const m = /^HTTP\/1\.([01]) ([1-9][0-9]{2})(?: |$)/.exec(lines[0]!)
  if (!m) throw parseError('status line')
  let length: number | undefined
  let chunked = false
  let keepAlive = m[1] === '1'
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!
    const colon = fieldColon(line, 'header line')
    const name = line.slice(0, colon).toLowerCase()
    if (name !== 'content-length' && name !== 'transfer-encoding' && name !== 'connection') continue
    const value = ows(line.slice(colon + 1))
    if (name === 'content-length') {
      if (!/^[0-9]{1,15}$/.test(value) || (length !== undefined && length !== Number(value))) throw parseError('content-length')
      length = Number(value)
    } else if (name === 'transfer-encoding') {
      const codings = value.toLowerCase().split(',').map(ows)
      if (codings[codings.length - 1] !== 'chunked' || codings.length > 1) throw parseError(`transfer-encoding ${value}`)
      chunked = true
    } else if (name === 'connection') {
      const tokens = value.toLowerCase().split(',').map(ows)
      if (tokens.includes('close')) keepAlive = false
      else if (tokens.includes('keep-alive')) keepAlive = true
    }
  }
  // Both framings at once is a smuggling shape: refuse rather than guess.
  if (chunked && length !== undefined) throw parseError('both content-length and chunked')
  if (!chunked && length === undefined) keepAlive = false
  return { status: Number(m[2]), bodyStart, length, chunked, keepAlive }
}

/**
 * Decodes the chunks `buf` (the undecoded rest of a chunked body) holds into `p.parts`, keeps what is left in
 * `p.chunks`, and answers the offset in `buf` after the body's last CRLF once it is complete (else undefined).
 * Each byte is looked at once: a body sent in many pieces costs no more than in one.
 */
function dechunk(p: Pending, buf: Buffer): number | undefined {
  let pos = 0
  p.need = 0
  // This read's chunks, joined into one part at the end (not one object per chunk kept to the answer's end).
  const parts: Buffer[] = []
  for (;;) {
    const eol = buf.indexOf(CRLF, pos)
    if (!p.trailers) {
      if (eol < 0) {
        if (buf.length - pos > 1024) throw parseError('chunk size line')
        break
      }
      const sizeLine = CHUNK_SIZE_LINE.exec(buf.toString('latin1', pos, eol))
      if (!sizeLine) throw parseError('chunk size')
      const size = Number.parseInt(sizeLine[1]!, 16)
      if (size === 0) {
        // Trailers (ignored) up to an empty line.
        p.trailers = true
        pos = eol + 2
        continue
      }
      if (buf.length < eol + 2 + size + 2) {
        // The chunk's data is still on its way: nothing to do before it is all here.
        p.need = eol + 2 + size + 2 - pos
        break
      }
      if (buf[eol + 2 + size] !== 0x0d || buf[eol + 3 + size] !== 0x0a) throw parseError('chunk end')
      parts.push(buf.subarray(eol + 2, eol + 2 + size))
      pos = eol + 2 + size + 2
    } else {
      if (eol < 0) {
        if (buf.length - pos > MAX_HEAD) throw parseError('trailers')
        break
      }
      if (eol === pos) {
        keep(p, parts)
        return eol + 2
      }
      // A trailer field (ignored) must still be a well-formed field line.
      const trailer = buf.toString('latin1', pos, eol)
      fieldColon(trailer, 'trailer line')
      if (CONTROL.test(trailer)) throw parseError('trailer line')
      pos = eol + 2
    }
  }
  keep(p, parts)
  if (pos > 0) {
    const rest = buf.subarray(pos)
    p.chunks = [rest]
    p.size = rest.length
  }
  return undefined
}

function keep(p: Pending, parts: Buffer[]): void {
  if (parts.length === 1) p.parts!.push(parts[0]!)
  else if (parts.length > 1) p.parts!.push(Buffer.concat(parts))
}
