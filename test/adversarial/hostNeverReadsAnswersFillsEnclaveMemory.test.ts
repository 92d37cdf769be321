import { mkdtempSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { dispatch } from '../../enclave/protocol/dispatch.js'
import { TURN_FRAMES, serveFrames } from '../../enclave/transport/serveFrames.js'
import { FrameReader } from '../../shared/protocol/FrameReader.js'
import { decodeFrameBody, encodeFrame } from '../../shared/protocol/frame.js'
import { ResponseFrameSchema } from '../../shared/protocol/messages.js'
import { PROTOCOL_VERSION } from '../../shared/protocol/requests.js'
import { paymentEnclave } from '../helpers/paymentEnclave.js'
import { waitFor } from '../helpers/startStack.js'

const turns = async (n: number) => {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve))
}

/**
 * Attack (rt40 on writer40; availability, enclave memory): a host writes a flood of cheap requests with large answers
 * (getWallets: ~1.4 KB per wallet, ~45 KB with 32 wallets, for a 44-byte frame) on a connection it never reads. writer40
 * resumes reading once a batch's answers are *sent* (handed to the socket), not once they left: so the enclave kept
 * taking the flood, K frames at a time, and buffered every answer in its own memory until 64 MiB were unsent
 * (MAX_UNSENT_BYTES: then it destroyed the connection) — 64 MiB per connection, and connections are not counted, so
 * N such connections held N × 64 MiB at once; every frame was also decided with no way for its answer to leave.
 * Safe behaviour: a connection whose answers do not leave is not read (TCP holds the host's frames in its own socket):
 * the enclave decides at most ~1 MiB of answers (UNREAD_BYTES) and a batch past what the socket buffers hold, keeps
 * the connection (no refusal: the host may read later), and still answers another connection; once read, every answer
 * arrives, in order.
 *
 * In process (the server-side socket is observed: paused, its unsent bytes), the real Enclave and dispatch behind
 * serveFrames on a Unix socket. Not timed: the flood is in the enclave's socket before the check, and "the enclave
 * takes no more" is checked across event-loop turns in which the unbounded code takes the next batch from the chunk it
 * already read (no I/O needed).
 */
describe('adversarial: a host floods a connection it never reads (writer40 resume after send)', () => {
  it('the enclave stops reading that connection (bounded answers held, no frame decided past it), serves another, and loses nothing once read', async () => {
    const { enclave } = await paymentEnclave({ perTx: '1000000', rolling24h: '1000000000000' })
    let taken = 0
    const sock = path.join(mkdtempSync(path.join(tmpdir(), 'bursar-noread-')), 'e.sock')
    const accepted: net.Socket[] = []
    const server = await serveFrames({
      listen: { kind: 'unix', path: sock },
      handle: async (msg) => (taken++, (await dispatch(enclave, msg)) as unknown as Record<string, unknown>),
    })
    server.on('connection', (s) => accepted.push(s))
    const connect = async () => {
      const c = net.createConnection(sock)
      await new Promise<void>((resolve, reject) => c.once('connect', resolve).once('error', reject))
      return c
    }
    try {
      const n = 60_000 // ~84 MB of answers at one wallet: past the 64 MiB the old code buffered before destroying
      const a = await connect()
      a.pause() // never reads (until the end)
      await waitFor(() => accepted.length === 1, 10_000, 'the connection accepted')
      const s = accepted[0]!
      a.write(Buffer.concat(Array.from({ length: n }, (_, i) => encodeFrame({ id: i + 1, msg: { type: 'getWallets' } }))))
      // Until the enclave has stopped taking A's frames: destroyed it, or holds it paused with its answers not drained
      // and takes nothing more over 20 event-loop turns (a batch held only until its answers are written resumes in 2).
      for (let held = -1; !s.destroyed && held !== taken; ) {
        await waitFor(() => s.destroyed || (s.isPaused() && s.writableNeedDrain && taken > 0), 60_000, 'the flood taken or held')
        held = taken
        await turns(20)
      }
      expect(s.destroyed).toBe(false)
      expect(taken).toBeLessThan(n / 10)
      expect(s.writableLength).toBeLessThan(8 * 1024 * 1024) // what the enclave holds for this peer (old: up to 64 MiB)

      // Another connection is served meanwhile.
      const b = await connect()
      const fromB = new Promise<unknown>((resolve) => {
        const r = new FrameReader()
        b.on('data', (chunk: Buffer) => {
          for (const body of r.push(chunk)) resolve(ResponseFrameSchema.parse(decodeFrameBody(body)))
        })
      })
      b.write(encodeFrame({ id: 7, msg: { type: 'hello', protocolVersion: PROTOCOL_VERSION } }))
      expect(await fromB).toMatchObject({ id: 7, ok: true })
      b.destroy()

      // The host reads at last: every answer arrives, in order, none refused (nothing lost by holding).
      const reader = new FrameReader()
      let [count, inOrder, ok] = [0, true, true]
      const all = new Promise<void>((resolve) =>
        a.on('data', (chunk: Buffer) => {
          for (const body of reader.push(chunk)) {
            const f = ResponseFrameSchema.parse(decodeFrameBody(body))
            inOrder &&= f.id === ++count
            ok &&= f.ok
          }
          if (count === n) resolve()
        }),
      )
      a.resume()
      await all
      expect([count, inOrder, ok, taken]).toEqual([n, true, true, n + 1])
      expect(TURN_FRAMES).toBe(32)
      a.destroy()
    } finally {
      server.close()
    }
  }, 180_000)
})
