/**
 * UNTRUSTED (test double): a raw byte-level connection to the enclave's
 * socket, for attacks on frames themselves (resending exact bytes, editing
 * them, pipelining duplicates). Collects every decoded response.
 */
import net from 'node:net'
import { FrameReader } from '../../shared/protocol/FrameReader.js'
import { decodeFrameBody } from '../../shared/protocol/frame.js'
import { type ResponseFrame, ResponseFrameSchema } from '../../shared/protocol/messages.js'
import { waitFor } from './startStack.js'

export type RawConnection = {
  socket: net.Socket
  responses: ResponseFrame[]
  write(bytes: Uint8Array): void
  /** Waits until `n` responses in total have arrived. */
  waitFor(n: number, timeoutMs?: number): Promise<ResponseFrame[]>
  closed(): boolean
  close(): void
}

/** Records a response's persist block the way MaliciousHost does (an honest host stores every one). */
export function keepPersist(host: { entries: string[]; checkpoints: unknown[]; snapshots: Array<{ version: number; auditSeq: number; blob: Uint8Array }> }) {
  return (r: ResponseFrame) => {
    if (!r.persist) return
    host.entries.push(...r.persist.entries)
    if (r.persist.checkpoint) host.checkpoints.push(r.persist.checkpoint)
    if (r.persist.sealed) host.snapshots.push({ ...r.persist.sealed, blob: new Uint8Array(r.persist.sealed.blob) })
  }
}

/** Opens a raw connection; `onResponse` sees every response (e.g. `keepPersist(host)`). */
export async function rawConnection(socketPath: string, onResponse?: (r: ResponseFrame) => void): Promise<RawConnection> {
  const socket = net.createConnection(socketPath)
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve)
    socket.once('error', reject)
  })
  const reader = new FrameReader()
  const responses: ResponseFrame[] = []
  let isClosed = false
  socket.on('data', (d: Buffer) => {
    for (const body of reader.push(d)) {
      const r = ResponseFrameSchema.parse(decodeFrameBody(body))
      onResponse?.(r)
      responses.push(r)
    }
  })
  socket.on('close', () => {
    isClosed = true
  })
  socket.on('error', () => {})
  return {
    socket,
    responses,
    write: (bytes) => socket.write(bytes),
    async waitFor(n, timeoutMs = 15_000) {
      await waitFor(() => responses.length >= n || isClosed, timeoutMs, `${n} responses`)
      return responses
    },
    closed: () => isClosed,
    close: () => socket.destroy(),
  }
}
