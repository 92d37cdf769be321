import { type ChildProcess, spawn } from 'node:child_process'
import { afterEach, describe, expect, it } from 'vitest'
import { postJson } from '../../agent/postJson.js'

/**
 * A malicious bursar host (or anything on the path) cuts its answer into many small TCP pieces to make the SDK's
 * hand-written HTTP/1.1 client (agent/postHttp1.ts) re-join and re-parse everything read so far on every piece:
 * quadratic CPU in the agent's process, its event loop stalled until the deadline, an honest-size answer refused.
 * The client must read an answer in time linear in its size however it is cut, as node:http (llhttp) does.
 */
const children: ChildProcess[] = []
afterEach(() => {
  for (const c of children.splice(0)) c.kill()
})

/**
 * A host in its own process (so this process's CPU is the client's alone) that, on the first bytes of a request,
 * writes the pieces `mode` names one per event-loop turn, each its own TCP segment.
 */
const HOST = `
const { createServer } = require('node:net')
const mode = process.argv[1]
// Paced so that each piece arrives on its own while the client keeps up (a client that re-parses falls behind).
const PACE_MS = mode === 'tinyChunks' ? 5 : 0
function* pieces() {
  if (mode === 'tinyChunks') {
    const piece = Buffer.from('1\\r\\nx\\r\\n'.repeat(1000))
    yield Buffer.from('HTTP/1.1 200 OK\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n')
    for (let i = 0; i < 600; i++) yield piece
    yield Buffer.from('0\\r\\n\\r\\n')
  } else if (mode === 'interimFlood') {
    const piece = Buffer.from('HTTP/1.1 100 Continue\\r\\n\\r\\n'.repeat(2000))
    for (let i = 0; i < 400; i++) yield piece
  } else if (mode === 'interimThenChunkedByteByByte') {
    const bytes = Buffer.from('HTTP/1.1 103 Early Hints\\r\\nLink: </a>\\r\\n\\r\\nHTTP/1.1 200 OK\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n5;ext="q"\\r\\n{"a":\\r\\n5\\r\\n"é"}\\r\\n0\\r\\nX-T: 1\\r\\n\\r\\n')
    for (let i = 0; i < bytes.length; i++) yield bytes.subarray(i, i + 1)
  }
}
const server = createServer((s) => {
  s.setNoDelay(true)
  s.on('error', () => {})
  // Every request (a head and a '{}' body here) gets the whole piece sequence.
  s.on('data', async () => {
    for (const p of pieces()) {
      if (s.destroyed) return
      if (!s.write(p)) await new Promise((r) => s.once('drain', r))
      else await new Promise((r) => (PACE_MS ? setTimeout(r, PACE_MS) : setImmediate(r)))
    }
  })
})
server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\\n'))
`

async function piecewiseHost(mode: 'tinyChunks' | 'interimFlood' | 'interimThenChunkedByteByByte'): Promise<URL> {
  const child = spawn(process.execPath, ['-e', HOST, mode], { stdio: ['ignore', 'pipe', 'inherit'] })
  children.push(child)
  const port = await new Promise<string>((resolve, reject) => {
    child.stdout!.once('data', (d: Buffer) => resolve(d.toString().trim()))
    child.once('exit', (code) => reject(new Error(`host exited ${code}`)))
  })
  return new URL(`http://127.0.0.1:${port}/v1/agent/sign`)
}

/**
 * The event loop's worst stall while `run` is pending (a 5 ms ticker), in this process's CPU time between two ticks
 * (suite39: was wall time, which also counts the time a loaded machine leaves this process descheduled; the CPU spent
 * in one turn is what a client that re-parses everything on every piece grows).
 */
async function worstStall<T>(run: () => Promise<T>): Promise<{ value: T | Error; stallMs: number; ms: number }> {
  const cpuMsNow = () => {
    const c = process.cpuUsage()
    return (c.user + c.system) / 1000
  }
  let last = cpuMsNow()
  let stallMs = 0
  const t = setInterval(() => {
    const now = cpuMsNow()
    stallMs = Math.max(stallMs, now - last)
    last = now
  }, 5)
  const t0 = Date.now()
  const value = await run().catch((e: Error) => e)
  clearInterval(t)
  return { value, stallMs, ms: Date.now() - t0 }
}

/** The client's CPU (this process) while `run` is pending. */
async function clientCpuMs<T>(run: () => Promise<T>): Promise<{ value: T | Error; cpuMs: number; stallMs: number; ms: number }> {
  const c0 = process.cpuUsage()
  const r = await worstStall(run)
  const cpu = process.cpuUsage(c0)
  return { ...r, cpuMs: (cpu.user + cpu.system) / 1000 }
}

describe('a host answers in many small pieces (hostAnswersInManyPieces)', () => {
  it('a chunked answer of 600,000 one-byte chunks, 1,000 per TCP piece, is read whole, fast, without stalling the event loop', async () => {
    const url = await piecewiseHost('tinyChunks')
    const r = await clientCpuMs(() => postJson({ url, body: '{}', timeoutMs: 20_000 }))
    if (process.env.RT_PRINT) console.log('tinyChunks', r)
    expect(r.value).toEqual({ status: 200, text: 'x'.repeat(600_000) })
    // Before the fix: every piece re-joined and re-decoded the whole body (busy the whole time the host trickles, stalls of 0.3 s and more).
    expect(r.stallMs).toBeLessThan(400)
    expect(r.cpuMs).toBeLessThan(1_500)
  })

  it('an endless stream of 1xx interim answers is cut off at the answer bound (8 MiB), not only at the deadline', async () => {
    const url = await piecewiseHost('interimFlood')
    const r = await clientCpuMs(() => postJson({ url, body: '{}', timeoutMs: 20_000 }))
    if (process.env.RT_PRINT) console.log('interimFlood', { ...r, value: String(r.value) })
    expect((r.value as NodeJS.ErrnoException).code).toBe('HPE_INVALID')
    expect((r.value as Error).message).toContain('longer than')
    // Before the fix each 1xx reset the count: the flood ran until the deadline (ETIMEDOUT after 20 s). suite40: the
    // HPE_INVALID "longer than" above is that proof; the wall bound that was here (< 15 s) added only a loaded box's flake.
  })

  it('a 1xx, a chunked answer with extensions and trailers, all one byte per piece, then the pooled socket serves again', async () => {
    const url = await piecewiseHost('interimThenChunkedByteByByte')
    expect(await postJson({ url, body: '{}', timeoutMs: 20_000 })).toEqual({ status: 200, text: '{"a":"é"}' })
    expect(await postJson({ url, body: '{}', timeoutMs: 20_000 })).toEqual({ status: 200, text: '{"a":"é"}' })
  })
})
