import { mkdtempSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { FrameReader } from '../../shared/protocol/FrameReader.js'
import { decodeFrameBody, encodeFrame } from '../../shared/protocol/frame.js'
import { type ResponseFrame, ResponseFrameSchema } from '../../shared/protocol/messages.js'
import { waitFor } from '../../test/helpers/startStack.js'
import { serveFrames } from './serveFrames.js'

const MiB = 2 ** 20

type Peer = { socket: net.Socket; answers: ResponseFrame[]; closed: boolean }

const peer = async (sock: string): Promise<Peer> => {
  const p: Peer = { socket: net.createConnection(sock), answers: [], closed: false }
  const reader = new FrameReader()
  p.socket.on('data', (d: Buffer) => p.answers.push(...reader.push(d).map((b) => ResponseFrameSchema.parse(decodeFrameBody(b)))))
  p.socket.on('close', () => (p.closed = true))
  p.socket.on('error', () => {})
  await new Promise<void>((resolve) => p.socket.once('connect', resolve))
  return p
}

/**
 * limits41: the budget counts frames in flight, not only partial ones (a whole frame whose answer is not sent yet is
 * still held), and refusing one connection loses nothing of the others. In process, serveFrames with a handler that
 * answers only when released: A and B each send a whole 3 MiB frame (6 MiB in flight), C then sends 3 MiB of a
 * frame: 9 MiB > 8 MiB, so C is refused; released, A and B get their answers; once they are answered the budget is
 * free again and a fresh connection's 3 MiB frame is taken.
 */
describe('serveFrames: the pending-frame budget counts frames in flight (limits41)', () => {
  it('a connection whose bytes pass the budget is refused; frames in flight on others are answered; answered frames free it', async () => {
    let release: () => void = () => {}
    const gate = new Promise<void>((resolve) => (release = resolve))
    let taken = 0
    const sock = path.join(mkdtempSync(path.join(tmpdir(), 'bursar-budget-')), 'e.sock')
    const server = await serveFrames({
      listen: { kind: 'unix', path: sock },
      pendingFrameBytes: 8 * MiB,
      handle: async () => (taken++, await gate, { ok: true, result: { taken } }),
    })
    const big = (id: number) => encodeFrame({ id, msg: { type: 'x', pad: 'a'.repeat(3 * MiB) } })
    try {
      const [a, b] = [await peer(sock), await peer(sock)]
      a.socket.write(big(1))
      b.socket.write(big(2))
      await waitFor(() => taken === 2, 30_000, 'A and B in flight')
      const c = await peer(sock)
      c.socket.write(big(3))
      await waitFor(() => c.closed, 30_000, 'C refused')
      expect(c.answers).toMatchObject([{ id: 0, ok: false, error: { code: 'enclave_frame_budget_full' } }])
      expect(taken).toBe(2)
      release()
      await waitFor(() => a.answers.length === 1 && b.answers.length === 1, 30_000, 'A and B answered')
      expect([a.answers[0], b.answers[0]]).toMatchObject([{ id: 1, ok: true }, { id: 2, ok: true }])
      expect([a.closed, b.closed]).toEqual([false, false])
      // Answered frames leave the budget: a fresh connection's 3 MiB frame is taken and answered.
      const d = await peer(sock)
      d.socket.write(big(4))
      await waitFor(() => d.answers.length === 1, 30_000, 'D answered')
      expect(d.answers[0]).toMatchObject({ id: 4, ok: true })
      for (const p of [a, b, d]) p.socket.destroy()
    } finally {
      server.close()
    }
  }, 60_000)

  /**
   * Answers side: 4 connections that never read each ask 4 answers of 1 MiB (each within the per-connection bounds:
   * 1 MiB unread stops reading, 64 MiB closes), 16 MiB unread across them, past an 8 MiB budget. The connection
   * holding most is closed until the rest fit; a reading connection is answered. Control: budget 1 GiB, none closed,
   * the server holds more than 8 MiB for them. Counted on the server's own sockets, not timed.
   */
  const unread = async (budget: number) => {
    const sock = path.join(mkdtempSync(path.join(tmpdir(), 'bursar-unread-')), 'e.sock')
    const accepted: net.Socket[] = []
    let answered = 0
    const server = await serveFrames({
      listen: { kind: 'unix', path: sock },
      pendingFrameBytes: budget,
      handle: async () => (answered++, { ok: true, result: { pad: 'a'.repeat(MiB) } }),
    })
    server.on('connection', (s) => accepted.push(s))
    try {
      const readers = await Promise.all([0, 1, 2, 3].map(() => peer(sock)))
      for (const p of readers) p.socket.pause()
      readers.forEach((p, i) => p.socket.write(Buffer.concat([1, 2, 3, 4].map((k) => encodeFrame({ id: 10 * i + k, msg: { type: 'big' } })))))
      await waitFor(() => answered === 16, 30_000, 'every frame answered')
      const open = () => accepted.filter((s) => !s.destroyed)
      const held = () => open().reduce((n, s) => n + s.writableLength, 0)
      // An honest connection that reads is answered beside them.
      const honest = await peer(sock)
      honest.socket.write(encodeFrame({ id: 99, msg: { type: 'big' } }))
      await waitFor(() => honest.answers.length === 1, 30_000, 'the honest connection answered')
      expect(honest.answers[0]).toMatchObject({ id: 99, ok: true })
      const result = { closed: accepted.length - open().length, held: held() }
      for (const p of [...readers, honest]) p.socket.destroy()
      return result
    } finally {
      server.close()
    }
  }

  it('answers not read, across connections, past the budget: the largest holder is closed until the rest fit; a reading connection is answered', async () => {
    const { closed, held } = await unread(8 * MiB)
    expect(closed).toBeGreaterThanOrEqual(1)
    expect(held).toBeLessThanOrEqual(8 * MiB)
  }, 60_000)

  it('control, the budget lifted (1 GiB): none closed, the server holds more than 8 MiB of answers not read', async () => {
    const { closed, held } = await unread(1024 * MiB)
    expect(closed).toBe(0)
    expect(held).toBeGreaterThan(8 * MiB)
  }, 60_000)
})
