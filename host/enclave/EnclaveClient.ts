/**
 * UNTRUSTED side: carries frames to the enclave (or to governance's process, issue 12 stage B) and back. Pipelines many
 * requests over one connection (matched by id), times each out, and
 * reconnects with backoff. It decides nothing about their content.
 */
import { EventEmitter } from 'node:events'
import net from 'node:net'
import { BaseError } from '../../shared/errors/base.js'
import { decodeFrameBody, encodeFrame } from '../../shared/protocol/frame.js'
import { FrameReader } from '../../shared/protocol/FrameReader.js'
import type { GovernanceRequest } from '../../shared/governance/governanceProtocol.js'
import { type EnclaveRequest, type ResponseFrame, ResponseFrameSchema } from '../../shared/protocol/messages.js'
import { exactResponseFrame } from './exactResponseFrame.js'

export type EnclaveAddress = { kind: 'unix'; path: string } | { kind: 'tcp'; host: string; port: number }

export class EnclaveUnavailableError extends BaseError {
  constructor(code: 'enclave_unavailable' | 'enclave_timeout', message: string) {
    super(code, message, { metaMessages: ['Check that the enclave process is running (make sim starts both).'] })
  }
}

type Pending = { resolve: (r: ResponseFrame) => void; reject: (e: Error) => void; timer: NodeJS.Timeout; tag: unknown }
/** Timed-out calls remembered (per connection) so their late answers are still handed on: bounded. */
const MAX_TIMED_OUT = 4_096

export class EnclaveClient extends EventEmitter {
  private socket: net.Socket | null = null
  private reader = new FrameReader()
  private nextId = 1
  private readonly pending = new Map<number, Pending>()
  /** Calls that timed out on this connection (id → the caller's tag): a late answer is emitted as 'late'. */
  private readonly timedOut = new Map<number, unknown>()
  private closed = false
  /** rt42: id-0 refusals the enclave sent this client (any connection). */
  private refusals = 0
  private backoffMs = 50
  connected = false

  constructor(
    readonly address: EnclaveAddress,
    readonly timeoutMs = 10_000,
  ) {
    super()
  }

  /** Connects (and keeps reconnecting until close()). Resolves on the first connection. */
  start(): Promise<void> {
    return new Promise((resolve) => {
      this.once('connected', () => resolve())
      this.connect()
    })
  }

  private connect(): void {
    if (this.closed) return
    const s =
      this.address.kind === 'unix' ? net.connect(this.address.path) : net.connect(this.address.port, this.address.host)
    s.setNoDelay(true)
    this.reader = new FrameReader()
    s.on('connect', () => {
      this.socket = s
      this.connected = true
      this.backoffMs = 50
      this.emit('connected')
    })
    s.on('data', (chunk: Buffer) => this.onData(chunk))
    s.on('error', () => {})
    s.on('close', () => {
      const was = this.connected
      this.connected = false
      this.socket = null
      this.timedOut.clear()
      this.failAll(new EnclaveUnavailableError('enclave_unavailable', 'Connection to the enclave closed'))
      if (was) this.emit('disconnected')
      if (!this.closed) {
        setTimeout(() => this.connect(), this.backoffMs).unref()
        this.backoffMs = Math.min(this.backoffMs * 2, 2_000)
      }
    })
  }

  private onData(chunk: Buffer): void {
    let bodies: Buffer[]
    try {
      bodies = this.reader.push(chunk)
    } catch {
      this.socket?.destroy()
      return
    }
    for (const body of bodies) {
      const decoded = safeDecode(body)
      // Issue 18 (host34): an exact check first (the decoded frame itself when certain), else the schema decides.
      const exact = exactResponseFrame(decoded)
      const parsed = exact ? { success: true as const, data: exact } : ResponseFrameSchema.safeParse(decoded)
      if (!parsed.success) continue
      const p = this.pending.get(parsed.data.id)
      // rt42: an id-0 error is the enclave's word on the connection (enclave_connections_full, enclave_frame_budget_full,
      // frame_too_large) before it closes it: handed on ('refused') at the 1st, 2nd, 4th… so an operator sees why.
      if (!p && parsed.data.id === 0 && !parsed.data.ok && !parsed.data.persist) {
        if ((++this.refusals & (this.refusals - 1)) === 0) this.emit('refused', parsed.data.error, this.refusals)
        continue
      }
      if (!p) {
        // An answer after its call timed out: the enclave decided and audited it anyway. SECURITY (F1): its persist
        // block is part of the enclave's log; dropping it would leave a hole the enclave's next load refuses.
        if (this.timedOut.has(parsed.data.id)) {
          const tag = this.timedOut.get(parsed.data.id)
          this.timedOut.delete(parsed.data.id)
          this.emit('late', parsed.data, tag)
        } else if (parsed.data.persist) this.emit('late', parsed.data, undefined)
        continue
      }
      this.pending.delete(parsed.data.id)
      clearTimeout(p.timer)
      p.resolve(parsed.data)
    }
  }

  /**
   * Sends one request and waits for its response frame. `tag`: handed back with a response that arrives after
   * the timeout (the 'late' event).
   */
  call(msg: EnclaveRequest | GovernanceRequest, timeoutMs = this.timeoutMs, tag?: unknown): Promise<ResponseFrame> {
    const socket = this.socket
    if (!socket || !this.connected) {
      return Promise.reject(new EnclaveUnavailableError('enclave_unavailable', 'Enclave is not connected'))
    }
    const id = this.nextId
    this.nextId = this.nextId >= 2 ** 31 ? 1 : this.nextId + 1
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id)
        this.timedOut.set(id, tag)
        if (this.timedOut.size > MAX_TIMED_OUT) this.timedOut.delete(this.timedOut.keys().next().value!)
        reject(new EnclaveUnavailableError('enclave_timeout', `Enclave did not answer ${msg.type} in ${timeoutMs} ms`))
      }, timeoutMs)
      this.pending.set(id, { resolve, reject, timer, tag })
      // Frames of every request that arrives in the same poll phase leave in one write (issue 18: one write per HTTP
      // request before): the check phase runs right after the poll phase, so nothing waits for more requests.
      if (!socket.writableCorked) {
        socket.cork()
        setImmediate(() => socket.uncork())
      }
      socket.write(encodeFrame({ id, msg }))
    })
  }

  private failAll(err: Error): void {
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer)
      p.reject(err)
      this.pending.delete(id)
    }
  }

  close(): void {
    this.closed = true
    this.socket?.destroy()
    this.failAll(new EnclaveUnavailableError('enclave_unavailable', 'Client closed'))
  }
}

function safeDecode(body: Buffer): unknown {
  try {
    return decodeFrameBody(body)
  } catch {
    return null
  }
}
