/**
 * TRUST: the enclave's only door. Bytes from the host are untrusted: frames
 * are size-checked before allocation, decoded strictly, schema-checked by the
 * dispatcher; a bad frame gets a typed error or a closed connection, never a
 * crash, and one connection's misbehaviour does not touch the others.
 */
import { existsSync, unlinkSync } from 'node:fs'
import net from 'node:net'
import { BaseError } from '../../shared/errors/base.js'
import type { ErrorCode } from '../../shared/errors/errorCodes.js'
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
  /** Frames one connection's batch may take before its answers leave (TURN_FRAMES): also its bound on frames in flight. */
  turnFrames?: number
  /** Connections served at once (MAX_CONNECTIONS); past it a new one is refused with `enclave_connections_full`. */
  maxConnections?: number
  /** Bytes of received frames not yet answered, across connections (PENDING_FRAME_BYTES); past it `enclave_frame_budget_full`. */
  pendingFrameBytes?: number
  log?: (line: string) => void
}

const MAX_UNSENT_BYTES = 64 * 1024 * 1024
/** rt40: answers not yet taken by the peer past which its connection is not read (a host reading as it should: never). */
const UNREAD_BYTES = 1024 * 1024
/**
 * writer40 (issue 18): at most this many of a connection's frames are in flight; past it the rest wait (the socket
 * paused, TCP holding the host's later frames) until every answer of the batch has been sent and written (the uncork
 * its sends scheduled), so a burst's first answers leave while the enclave decides the rest, not after the whole
 * burst (tail39: 245-block turns after the enclave was starved). A writer turn holds at most this many blocks of a
 * connection (its blocks are all in flight at once) and still signs one checkpoint for all of them.
 * BURSAR_ENCLAVE_TURN_FRAMES overrides (enclave/config.ts, ≤ 4,096). SECURITY: a connection's frames in flight are at
 * most one batch (was 4,096, then enclave_busy); a flood waits in the host's socket, not here (one chunk read at most).
 */
export const TURN_FRAMES = 32
/**
 * conn40b (rt40): connections served at once. Each may hold a partial frame (≤ MAX_FRAME_BYTES, 32 MiB), about
 * UNREAD_BYTES of unsent answers and one batch in flight, so uncounted connections were memory without bound. The system
 * opens few: a host one (two for a moment while it reconnects), tools and tests a handful. Past the cap a new
 * connection gets one `enclave_connections_full` frame (id 0) and is closed, unread; the others are served on.
 * BURSAR_ENCLAVE_MAX_CONNECTIONS overrides (enclave/config.ts, ≤ 4,096).
 */
export const MAX_CONNECTIONS = 64
/**
 * limits41: bytes of frames received and not yet answered, across all connections: partial frames, frames read and
 * waiting, frames in flight. MAX_CONNECTIONS × MAX_FRAME_BYTES was 2 GiB, the whole of a 2,048 MiB enclave
 * (docs/nitro.md). 256 MiB is eight largest frames at once (an honest host sends one large frame at a time: loadState,
 * loadWallet); frames and unread answers (shedUnread: the same figure, apart) of both processes full, 1 GiB, beside
 * the signer's ~140 MB under load and governance's ~60 MB, leave ~800 MB. Past it the connection holding the largest
 * partial frame + frames waiting (rt41: not the one whose bytes came last; that one on a tie or if none holds one) gets one
 * `enclave_frame_budget_full` frame (id 0) and is closed, until within it; the others are served on.
 * BURSAR_ENCLAVE_PENDING_FRAME_BYTES overrides (enclave/config.ts).
 */
export const PENDING_FRAME_BYTES = 256 * 1024 * 1024

/** Listens and serves pipelined request frames; resolves once listening. */
export async function serveFrames(params: ServeFramesParameters): Promise<net.Server> {
  const stallMs = params.stallTimeoutMs ?? 10_000
  const log = params.log ?? (() => {})
  const maxConnections = params.maxConnections ?? MAX_CONNECTIONS
  const budget = params.pendingFrameBytes ?? PENDING_FRAME_BYTES
  let [refused, pendingBytes, overBudget, shed] = [0, 0, 0, 0]
  /** The connections served (conn40b's count: its size); rt41: each one's partial frame bytes, and its refusal past the budget. */
  const served = new Map<net.Socket, { partial: () => number; refuse: () => void }>()
  /**
   * limits41: answers not yet read by their peers, across connections, past the same budget: the connection holding
   * most is closed (a peer that does not read, as at MAX_UNSENT_BYTES). Summed only when a connection holds more than
   * UNREAD_BYTES (a reading peer never does), so the total stays under budget + connections × UNREAD_BYTES + an answer.
   */
  const shedUnread = () => {
    let [total, worst] = [0, null as net.Socket | null]
    for (const s of served.keys()) (total += s.writableLength), s.writableLength > (worst?.writableLength ?? -1) && (worst = s)
    if (total <= budget || !worst) return
    if ((++shed & (shed - 1)) === 0) log(`connection closed: answers not yet read passed ${budget} bytes across connections; ${shed} closed so far`)
    worst.destroy()
  }
  const server = net.createServer({ noDelay: true }, (socket) => {
    if (served.size >= maxConnections) {
      // Logged at the 1st, 2nd, 4th, 8th… refusal: a flood of connections is not a flood of log lines.
      if ((++refused & (refused - 1)) === 0) log(`connection refused: ${maxConnections} served at once (BURSAR_ENCLAVE_MAX_CONNECTIONS); ${refused} refused so far`)
      const error = { code: 'enclave_connections_full' satisfies ErrorCode, message: `The enclave serves ${maxConnections} connections at once` }
      socket.on('error', () => socket.destroy())
      socket.end(encodeFrame({ id: 0, ok: false, error }), () => socket.destroy())
      return
    }
    socket.once('close', () => served.delete(socket))
    let reader = new FrameReader()
    let stallTimer: NodeJS.Timeout | undefined
    /** Frame bodies read but not yet taken; frames taken whose answers are not sent yet; whether reading waits for them. */
    const backlog: Buffer[] = []
    let [open, held] = [0, false]
    /** This connection's share of pendingBytes: its partial frame and its frames read but not answered (0 once refused or closed); of those, the bytes waiting in backlog (rt42: refusable). */
    let [queued, mine, gone, waiting] = [0, 0, false, 0]
    const count = () => {
      const now = gone ? 0 : reader.pendingBytes + queued
      ;[pendingBytes, mine] = [pendingBytes + now - mine, now]
    }
    const refuse = (error: { code: string; message: string }) => {
      send({ id: 0, ok: false, error })
      // Its partial frame and waiting frames are let go at once (frames in flight finish; their answers cannot leave).
      ;(gone = true), (backlog.length = waiting = 0), (reader = new FrameReader()), count()
      socket.end()
      socket.destroySoon()
    }
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
      else if (socket.writableLength > UNREAD_BYTES) shedUnread()
    }
    const armStall = () => {
      if (stallTimer) clearTimeout(stallTimer)
      // A held connection reads nothing, so its partial frame makes no progress by our choice: no stall then.
      stallTimer = reader.pendingBytes > 0 && !held ? setTimeout(() => socket.destroy(), stallMs) : undefined
    }
    /** One frame: decoded, dispatched, its answer sent; resolves once sent (a refused frame's at once). */
    const take = async (body: Buffer): Promise<void> => {
      let [id, parsed] = [0, false]
      try {
        const frame = RequestFrameSchema.parse(decodeFrameBody(body))
        ;[id, parsed] = [frame.id, true]
        send({ id, ...(await params.handle(frame.msg)) })
      } catch (err) {
        send({ id, ok: false, error: wireError(err, parsed ? 'internal_error' : 'message_invalid') })
      }
    }
    // Once a held batch's last answer is sent, its uncork is already queued: reading resumes in the check phase after it.
    // A closed connection takes no more frames (no decision whose answer cannot leave). rt40: nor one whose answers
    // are not leaving (the peer does not read: UNREAD_BYTES unsent): it resumes on 'drain', so a host that never reads
    // holds about UNREAD_BYTES and a batch of answers here, not MAX_UNSENT_BYTES of them, every frame decided.
    const settle = () => --open === 0 && held && socket.writableLength <= UNREAD_BYTES && setImmediate(resume)
    const resume = () => ((held = false), socket.destroyed || socket.resume(), pump())
    const pump = () => {
      while (backlog.length > 0 && !held && !socket.destroyed) {
        if (open >= (params.turnFrames ?? TURN_FRAMES) || socket.writableLength > UNREAD_BYTES) (held = true), socket.pause()
        else {
          const body = backlog.shift()!
          open++, (waiting -= body.length), void take(body).finally(() => ((queued -= body.length), count(), settle()))
        }
      }
      armStall()
    }
    socket.on('data', (chunk: Buffer) => {
      if (gone) return
      let bodies: Buffer[]
      try {
        bodies = reader.push(chunk)
      } catch (err) {
        // Oversized length prefix: the stream cannot be resynchronized.
        return refuse(wireError(err))
      }
      for (const body of bodies) backlog.push(body), (queued += body.length), (waiting += body.length)
      count()
      // rt41: past the budget the connection holding the largest partial frame is refused (this one on a tie, or if none
      // holds one), until within it: connections holding partial frames just under the budget made every honest frame
      // the one past it. Frames in flight are no reason to refuse their connection (their answers could not leave).
      // rt42: frames read and not yet taken count with the partial frame (never dispatched: refusing loses no decision):
      // whole frames parked on a held connection (its peer not reading) made the honest frame the one past it too.
      while (pendingBytes > budget && !gone) {
        let worst = served.get(socket)!
        for (const h of served.values()) h.partial() > worst.partial() && (worst = h)
        if ((++overBudget & (overBudget - 1)) === 0) log(`connection refused: frames not yet answered passed ${budget} bytes (BURSAR_ENCLAVE_PENDING_FRAME_BYTES); ${overBudget} refused so far`)
        worst.refuse()
      }
      if (!gone) pump()
    })
    served.set(socket, {
      partial: () => reader.pendingBytes + waiting,
      refuse: () => refuse({ code: 'enclave_frame_budget_full' satisfies ErrorCode, message: `The enclave holds at most ${budget} bytes of frames not yet answered` }),
    })
    socket.on('error', () => socket.destroy())
    socket.on('drain', () => open === 0 && held && resume()) // rt40: see settle
    socket.on('close', () => (stallTimer && clearTimeout(stallTimer), (backlog.length = waiting = 0), (gone = true), count()))
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
