/**
 * UNTRUSTED host: structured logs through fastify's pino. One JSON line per event on stderr (stdout carries only the
 * machine-readable `{"event":"listening","port":…}` line), each request's lines bound to its request id (taken from
 * a well-formed `x-request-id` header, else generated, and echoed in the response). No secrets: request lines carry
 * method, route, path without query, status and duration; credentials and signed bodies are never logged, and
 * the redaction list catches them should an error object carry them.
 */
import { randomUUID } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import { type FastifyInstance, type FastifyReply, type FastifyRequest, type FastifyServerOptions, LogController } from 'fastify'
import pino from 'pino'

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const

/** The request lines' message (RequestLineController): the only lines batchedRequestLines holds back. */
const REQUEST_MSG = 'request'
const INFO = 30
/** Request lines held at most this long, and at most this many characters, before one write. */
export const REQUEST_LINES_FLUSH_MS = 100
const REQUEST_LINES_MAX_CHARS = 64 * 1024

/** Fastify options for the host's logger (BURSAR_LOG_LEVEL) and request ids. */
/** One line per request at completion (instead of fastify's "incoming" + "completed" pair): no query, no headers, no body. */
class RequestLineController extends LogController {
  override incomingRequest(): void {}
  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    const line = {
      method: request.method,
      route: request.routeOptions.url ?? null,
      path: request.url.split('?', 1)[0],
      status: reply.statusCode,
      ms: Math.round(reply.elapsedTime * 100) / 100,
    }
    // 503 is the enclave loading or away (readiness probes see it at every start): a warning, not an error.
    if (error || (reply.statusCode >= 500 && reply.statusCode !== 503)) request.log.error({ ...line, ...(error ? { err: error } : {}) }, 'request failed')
    else if (reply.statusCode === 503) request.log.warn(line, REQUEST_MSG)
    else request.log.info(line, REQUEST_MSG)
  }
}

export function hostLogging(level: (typeof LOG_LEVELS)[number]): Pick<FastifyServerOptions, 'loggerInstance' | 'genReqId' | 'requestIdHeader' | 'logController'> {
  const loggerInstance = pino(
    {
      level,
      base: { service: 'bursar-host' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        paths: ['req.headers.authorization', 'req.headers.cookie', 'headers.authorization', '*.privateKey', '*.signature', '*.request', '*.token', '*.auditToken', '*.blob'],
        censor: '[redacted]',
      },
    },
    batchedRequestLines(pino.destination({ dest: 2, sync: true })),
  )
  return {
    loggerInstance,
    requestIdHeader: false,
    genReqId: (req: IncomingMessage) => {
      const h = req.headers['x-request-id']
      return typeof h === 'string' && REQUEST_ID.test(h) ? h : randomUUID()
    },
    logController: new RequestLineController(),
  }
}


/**
 * Issue 18 (host37): at the default level (`info`) every request wrote its line to stderr with a write syscall of
 * its own, on the host's thread, after every payment's answer. Request lines (info, msg `request`) are held and
 * written together every REQUEST_LINES_FLUSH_MS (or at 64 K characters); any other line writes the held ones and then
 * itself at once, in order, as before; the held ones are also written on exit (process.exit, a signal's shutdown).
 * What a SIGKILL can lose: the last ≤ 100 ms of request lines (never a warning, an error or another message).
 */
export function batchedRequestLines(dest: { write(s: string): unknown }): { write(s: string): void; flush(done?: unknown): void; lastLevel: number; lastMsg: string | undefined } {
  let held = ''
  let timer: NodeJS.Timeout | null = null
  const flush = (done?: unknown) => {
    if (timer) clearTimeout(timer)
    timer = null
    if (held !== '') {
      const s = held
      held = ''
      dest.write(s)
    }
    if (typeof done === 'function') done() // pino's logger.flush(cb)
  }
  const stream = {
    // pino sets lastLevel / lastMsg before each write when the stream asks for them (as pino.multistream does).
    [pino.symbols.needsMetadataGsym]: true,
    lastLevel: 0,
    lastMsg: undefined as string | undefined,
    write(s: string): void {
      if (stream.lastLevel !== INFO || stream.lastMsg !== REQUEST_MSG) {
        flush()
        dest.write(s)
        return
      }
      held += s
      if (held.length >= REQUEST_LINES_MAX_CHARS) flush()
      else timer ??= setTimeout(flush, REQUEST_LINES_FLUSH_MS).unref()
    },
    flush,
  }
  if (toFlushOnExit.size === 0) process.on('exit', () => toFlushOnExit.forEach((f) => f()))
  toFlushOnExit.add(flush)
  return stream
}
/** Every batchedRequestLines' flush, run by one exit listener (no listener per logger). */
const toFlushOnExit = new Set<() => void>()

/** Echoes the request id in every response. */
export function registerRequestLogging(app: FastifyInstance): void {
  // Callback hooks (not async) on every request: no promise and microtask each (issue 18).
  app.addHook('onRequest', (req, reply, done) => {
    reply.header('x-request-id', req.id)
    done()
  })
}
