import net from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FrameReader } from '../../shared/protocol/FrameReader.js'
import { decodeFrameBody, encodeFrame } from '../../shared/protocol/frame.js'
import { type ResponseFrame, ResponseFrameSchema } from '../../shared/protocol/messages.js'
import { TURN_FRAMES } from '../../enclave/transport/serveFrames.js'
import { type AgentSignOk, type MaliciousHost, type TestAgent, eip3009, paymentPolicy, signAgentRequest, startWithAgent, verifyPayment } from '../helpers/maliciousHost.js'

const seqOf = (t: string) => (JSON.parse(t) as { seq: number }).seq

/** A raw connection: frames written in one write, answers collected by id. */
async function rawConnection(socketPath: string) {
  const socket = net.createConnection(socketPath)
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject))
  const reader = new FrameReader()
  const answers: ResponseFrame[] = []
  const waiters: Array<() => void> = []
  socket.on('data', (chunk: Buffer) => {
    for (const body of reader.push(chunk)) answers.push(ResponseFrameSchema.parse(decodeFrameBody(body)))
    waiters.splice(0).forEach((w) => w())
  })
  return {
    /** Resolves once the bytes were handed to the kernel (the socket's buffer, not ours). */
    write: (msgs: unknown[], firstId = 1) =>
      new Promise<void>((resolve, reject) => socket.write(Buffer.concat(msgs.map((msg, i) => encodeFrame({ id: firstId + i, msg }))), (err) => (err ? reject(err) : resolve()))),
    answered: async (n: number) => {
      while (answers.length < n) await new Promise<void>((resolve) => waiters.push(resolve))
      return answers
    },
    close: () => socket.destroy(),
  }
}

/**
 * Attack (availability, writer40): one connection floods the enclave with frames so that a request on another
 * connection waits behind all of them — the shape of an enclave kept off its CPU, after which the host's whole queue
 * arrives at once (tail39: 245-block writer turns, every slow request inside one). Without a bound, every frame of
 * the flood read in that poll is verified and decided (one writer turn) before the other connection's frame is
 * taken and before any answer leaves. The enclave is stopped (SIGSTOP) while both connections write, so both are
 * readable at once when it continues: counted by audit seq, not timed. With the bound, the other connection's
 * request is decided after at most one batch (TURN_FRAMES) of the flood; every answer still leaves, each signature
 * checked with viem, each connection's entries in seq order.
 */
describe('adversarial: a host floods one connection ahead of another (bounded writer turns)', () => {
  let host: MaliciousHost
  let wallet: `0x${string}`
  let agent: TestAgent
  const pay = () => signAgentRequest({ agent, wallet, operation: eip3009({ wallet, value: 1n }) })

  beforeAll(async () => {
    ;({ host, wallet, agent } = await startWithAgent(paymentPolicy({ perTx: '1000', rolling24h: '1000000000' })))
    await host.waitAgentFloor()
  }, 60_000)
  afterAll(async () => {
    if (host?.proc && host.proc.exitCode === null) host.proc.kill('SIGCONT')
    await host?.stop()
  })

  it('the other connection is decided within one batch of the flood; every answer leaves, verified', async () => {
    const flood = Array.from({ length: 400 }, pay)
    const other = pay()
    const a = await rawConnection(host.socketPath)
    const b = await rawConnection(host.socketPath)
    const proc = host.proc!
    proc.kill('SIGSTOP')
    try {
      // The flood's first bytes fill the socket (the rest waits in this process); the other frame is in the kernel.
      void a.write(flood.map((r) => ({ type: 'agentSign', request: r.request, signature: r.signature })))
      await b.write([{ type: 'agentSign', request: other.request, signature: other.signature }])
    } finally {
      proc.kill('SIGCONT')
    }
    const [fromA, [fromB]] = [await a.answered(flood.length), await b.answered(1)]
    a.close()
    b.close()
    const check = async (ans: ResponseFrame, r: ReturnType<typeof pay>) => {
      expect(ans.ok).toBe(true)
      const res = (ans as ResponseFrame & { result: AgentSignOk }).result
      expect(await verifyPayment(wallet, r.parsed, res.signature)).toBe(true)
      return res.receipt.seq
    }
    const seqsA: number[] = []
    for (const ans of fromA) seqsA.push(await check(ans, flood[ans.id - 1]!))
    const seqB = await check(fromB!, other)
    expect(fromA.flatMap((x) => x.persist!.entries.map(seqOf))).toEqual([...seqsA].sort((x, y) => x - y))
    // At most one batch of the flood was decided before the other connection's request (unbounded: all it had read).
    expect(seqB - Math.min(...seqsA)).toBeLessThanOrEqual(TURN_FRAMES)
  }, 120_000)
})
