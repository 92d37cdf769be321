import { mkdtempSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { decodeFrameBody, encodeFrame } from '../../shared/protocol/frame.js'
import { FrameReader } from '../../shared/protocol/FrameReader.js'
import { EnclaveClient } from './EnclaveClient.js'

/**
 * Issue 18: the host's frames to the enclave leave once per event-loop turn (the check phase after the poll phase),
 * not once per caller: requests that arrive in the same poll phase share one write (and wake the enclave once).
 */
describe('EnclaveClient writes', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'bursar-client-'))
  const closers: Array<() => void> = []
  afterAll(() => closers.forEach((c) => c()))

  it('sends calls made in separate ticks of one turn in one write; each still gets its own answer', async () => {
    const chunks: number[] = []
    const server = net.createServer((socket) => {
      const reader = new FrameReader()
      socket.on('data', (chunk: Buffer) => {
        const bodies = reader.push(chunk)
        chunks.push(bodies.length)
        for (const b of bodies) {
          const { id, msg } = decodeFrameBody(b) as { id: number; msg: { type: string } }
          socket.write(encodeFrame({ id, ok: true, result: { echo: msg.type } }))
        }
      })
    })
    const sock = path.join(dir, 'e.sock')
    await new Promise<void>((r) => server.listen(sock, r))
    closers.push(() => server.close())
    const client = new EnclaveClient({ kind: 'unix', path: sock }, 5_000)
    closers.push(() => client.close())
    await client.start()
    // Count the writes the client's socket hands to the kernel (one _write or _writev each).
    const socket = (client as unknown as { socket: Record<"_write" | "_writev", (...args: unknown[]) => unknown> }).socket
    let writes = 0
    for (const k of ['_write', '_writev'] as const) {
      const orig = socket[k].bind(socket)
      socket[k] = (...args: unknown[]) => (writes++, orig(...args))
    }
    // Three callers in one turn: the main script, then two nextTicks queued after the first call's own
    // (an uncork on nextTick would have sent the first alone).
    const answers = await new Promise<unknown[]>((resolve) => {
      const all: Array<Promise<unknown>> = [client.call({ type: 'hello', protocolVersion: 1 })]
      process.nextTick(() => {
        all.push(client.call({ type: 'finishLoad' }))
        process.nextTick(() => {
          all.push(client.call({ type: 'catchUp', storedThrough: -1, snapshotVersion: 0 }))
          resolve(Promise.all(all))
        })
      })
    })
    expect(answers.map((a) => (a as { result: { echo: string } }).result.echo)).toEqual(['hello', 'finishLoad', 'catchUp'])
    expect(writes).toBe(1)
    expect(chunks).toEqual([3])
  })
})
