/**
 * TRUST: the enclave's only door. Bytes from the host are untrusted: frames
 * are size-checked before allocation, decoded strictly, schema-checked by the
 * dispatcher; a bad frame gets a typed error or a closed connection, never a
 * crash, and one connection's misbehaviour does not touch the others.
 */
import { existsSync, unlinkSync } from 'node:fs'
import net from 'node:net'
import { BaseError } from '../../shared/errors/base.js'
import { decodeFrameBody, encodeFrame } from '../../shared/protocol/frame.js'
import { FrameReader } from '../../shared/protocol/FrameReader.js'
import { RequestFrameSchema } from '../../shared/protocol/requests.js'

export type ListenAddress = { kind: 'unix'; path: string } | { kind: 'tcp'; host: string; port: number }

export type FrameHandler = (msg: unknown) => Promise<Record<string, unknown>>

export type ServeFramesParameters = {
  listen: ListenAddress
  handle: FrameHandler
  /** A partial frame that makes no progress for this long closes the connection. */
  stallTimeoutMs?: number
  maxInFlightPerConnection?: number
  log?: (line: string) => void
}

const MAX_UNSENT_BYTES = 64 * 1024 * 1024

/** Listens and serves pipelined request frames; resolves once listening. */
export async function serveFrames(params: ServeFramesParameters): Promise<net.Server> {
  const stallMs = params.stallTimeoutMs ?? 10_000
  const maxInFlight = params.maxInFlightPerConnection ?? 4096
  const log = params.log ?? (() => {})
  const server = net.createServer({ noDelay: true }, (socket) => {
    const reader = new FrameReader()
    let inFlight = 0
    let stallTimer: NodeJS.Timeout | undefined
    const send = (frame: unknown) => {
      if (socket.destroyed) return
      let bytes: Buffer
      try {
        bytes = encodeFrame(frame)
      } catch (err) {
        const id = (frame as { id?: number }).id ?? 0
        bytes = encodeFrame({ id, ok: false, error: { code: 'internal_error', message: 'Response could not be encoded' } })
        log(`encode failure: ${(err as Error).message}`)
      }
      // Responses finished in the same turn leave in one write (setImmediate: also those released in order a tick later).
      if (!socket.writableCorked) {
        socket.cork()
        setImmediate(() => socket.uncork())
      }
      socket.write(bytes)
      // SECURITY: a peer that never reads cannot make us buffer without bound.
      if (socket.writableLength > MAX_UNSENT_BYTES) socket.destroy()
    }
    const armStall = () => {
      if (stallTimer) clearTimeout(stallTimer)
      stallTimer = reader.pendingBytes > 0 ? setTimeout(() => socket.destroy(), stallMs) : undefined
    }
    socket.on('data', (chunk: Buffer) => {
      let bodies: Buffer[]
      try {
        bodies = reader.push(chunk)
      } catch (err) {
        // Oversized length prefix: the stream cannot be resynchronized.
        send({ id: 0, ok: false, error: wireError(err) })
        socket.end()
        socket.destroySoon()
        return
      }
      armStall()
      for (const body of bodies) {
        let id = 0
        let msg: unknown
        try {
          const frame = RequestFrameSchema.parse(decodeFrameBody(body))
          id = frame.id
          msg = frame.msg
        } catch (err) {
          send({ id, ok: false, error: wireError(err, 'message_invalid') })
          continue
        }
        if (inFlight >= maxInFlight) {
          send({ id, ok: false, error: { code: 'enclave_busy', message: 'Too many requests in flight on this connection' } })
          continue
        }
        inFlight++
        params
          .handle(msg)
          .then(
            (res) => send({ id, ...res }),
            (err) => send({ id, ok: false, error: wireError(err) }),
          )
          .finally(() => inFlight--)
      }
    })
    socket.on('error', () => socket.destroy())
    socket.on('close', () => stallTimer && clearTimeout(stallTimer))
  })
  server.on('error', (err) => log(`server error: ${err.message}`))
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    if (params.listen.kind === 'unix') {
      if (existsSync(params.listen.path)) unlinkSync(params.listen.path)
      server.listen(params.listen.path, () => resolve())
    } else {
      server.listen(params.listen.port, params.listen.host, () => resolve())
    }
  })
  return server
}

function wireError(err: unknown, fallback = 'internal_error'): { code: string; message: string } {
  if (err instanceof BaseError) return err.toWire()
  if (err && typeof err === 'object' && 'issues' in err) return { code: 'message_invalid', message: 'Frame does not match the protocol schema' }
  return { code: fallback, message: fallback === 'internal_error' ? 'Internal error' : 'Invalid message' }
}
