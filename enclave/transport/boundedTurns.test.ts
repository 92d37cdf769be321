import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { mkdtempSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { FrameReader } from '../../shared/protocol/FrameReader.js'
import { decodeFrameBody, encodeFrame } from '../../shared/protocol/frame.js'
import { type ResponseFrame, ResponseFrameSchema } from '../../shared/protocol/messages.js'
import { type AgentSignOk, MERCHANT, eip3009, signAgentRequest, verifyPayment } from '../../test/helpers/maliciousHost.js'
import { paymentEnclave } from '../../test/helpers/paymentEnclave.js'
import { dispatch } from '../protocol/dispatch.js'
import { TURN_FRAMES, serveFrames } from './serveFrames.js'

const seqOf = (t: string) => (JSON.parse(t) as { seq: number }).seq

/**
 * writer40 (issue 18): a burst of frames read at once (the host's queue after the enclave was kept off a CPU) is
 * taken K frames at a time; the next K only after the answers of the last ones have been written. Counted, not timed:
 * writer turns from the `bursar.writer` channel (one per checkpoint signature), decisions from the writer queue, and
 * how many had been decided when the first answer reached the host. One write of N frames: the server reads it
 * whole in one poll (a Unix socket, written before the server's loop turns), so without the bound every frame is
 * decided in one turn before any answer leaves (the control below).
 */
async function burst(n: number, turnFrames: number) {
  const { enclave, wallet, agent, clock } = await paymentEnclave({ perTx: '1000000', rolling24h: '1000000000000' })
  let decided = 0
  const run = enclave.queue.run.bind(enclave.queue)
  enclave.queue.run = <T>(job: () => Promise<T> | T) => run(() => (decided++, job()))
  const turns: number[] = []
  const onTurn = (m: unknown) => (m as { step: string }).step === 'turn' && turns.push((m as { blocks: number }).blocks)
  subscribe('bursar.writer', onTurn)
  const sock = path.join(mkdtempSync(path.join(tmpdir(), 'bursar-turns-')), 'e.sock')
  const server = await serveFrames({ listen: { kind: 'unix', path: sock }, turnFrames, handle: async (msg) => (await dispatch(enclave, msg)) as unknown as Record<string, unknown> })
  try {
    const reqs = Array.from({ length: n }, () => signAgentRequest({ agent, wallet, operation: eip3009({ wallet, value: 1n, to: MERCHANT }), issuedAt: clock.t }))
    const client = net.createConnection(sock)
    await new Promise<void>((resolve, reject) => client.once('connect', resolve).once('error', reject))
    const reader = new FrameReader()
    const answers: ResponseFrame[] = []
    let decidedAtFirst = -1
    const all = new Promise<void>((resolve) =>
      client.on('data', (chunk: Buffer) => {
        for (const body of reader.push(chunk)) {
          if (decidedAtFirst < 0) decidedAtFirst = decided
          answers.push(ResponseFrameSchema.parse(decodeFrameBody(body)))
        }
        if (answers.length === n) resolve()
      }),
    )
    client.write(Buffer.concat(reqs.map((r, i) => encodeFrame({ id: i + 1, msg: { type: 'agentSign', request: r.request, signature: r.signature } }))))
    await all
    client.destroy()
    // Every answer a viem-checked signature; the entries reached the host in seq order (releaseInOrder still holds).
    for (const a of answers) {
      expect(a.ok).toBe(true)
      const res = (a as ResponseFrame & { result: AgentSignOk }).result
      expect(await verifyPayment(wallet, reqs[a.id - 1]!.parsed, res.signature)).toBe(true)
      expect(a.persist!.entries.map(seqOf)).toContain(res.receipt.seq)
    }
    const seqs = answers.flatMap((a) => a.persist!.entries.map(seqOf))
    expect(seqs).toEqual([...seqs].sort((x, y) => x - y))
    expect(new Set(seqs).size).toBe(n)
    return { turns, decidedAtFirst, decided }
  } finally {
    unsubscribe('bursar.writer', onTurn)
    server.close()
  }
}

describe('serveFrames: bounded writer turns (writer40)', () => {
  it('a burst of N frames is answered in ≥ ceil(N/K) turns of ≤ K blocks; the first answer leaves before the last frame is decided', async () => {
    const [n, k] = [64, 8]
    const { turns, decidedAtFirst, decided } = await burst(n, k)
    expect(decided).toBe(n)
    expect(turns.length).toBeGreaterThanOrEqual(Math.ceil(n / k))
    expect(Math.max(...turns)).toBeLessThanOrEqual(k)
    expect(turns.reduce((a, b) => a + b, 0)).toBe(n)
    expect(decidedAtFirst).toBeGreaterThan(0)
    expect(decidedAtFirst).toBeLessThan(n)
  }, 60_000)

  it('control, the bound lifted (the old way): the whole burst is decided in one turn before any answer leaves', async () => {
    const n = 64
    const { turns, decidedAtFirst } = await burst(n, 4096)
    expect(turns).toEqual([n])
    expect(decidedAtFirst).toBe(n)
  }, 60_000)

  it('the default K is the documented one', () => {
    expect(TURN_FRAMES).toBe(32)
  })
})
