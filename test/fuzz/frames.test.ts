import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { encode } from 'cborg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MAX_FRAME_BYTES, decodeFrameBody, encodeFrame } from '../../shared/protocol/frame.js'
import { FrameReader } from '../../shared/protocol/FrameReader.js'
import { repoRoot, waitFor } from '../helpers/startStack.js'

/** A raw frame connection to the enclave: send bytes, collect decoded responses. */
function connect(sock: string) {
  const s = net.connect(sock)
  const reader = new FrameReader()
  const responses: Array<Record<string, unknown>> = []
  let closed = false
  s.on('data', (d: Buffer) => {
    try {
      for (const b of reader.push(d)) responses.push(decodeFrameBody(b) as Record<string, unknown>)
    } catch {}
  })
  s.on('close', () => {
    closed = true
  })
  s.on('error', () => {})
  return { s, responses, isClosed: () => closed }
}

function rssKb(pid: number): number {
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return Number(m?.[1] ?? 0)
}

// Deterministic PRNG so failures reproduce.
function rng(seed: number) {
  return () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff
    return seed / 0x7fffffff
  }
}

describe('frame robustness against a running enclave', () => {
  let enclave: ChildProcess
  let sock: string
  beforeAll(async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'bursar-fuzz-'))
    sock = path.join(dir, 'enclave.sock')
    const logs: string[] = []
    enclave = spawn(process.execPath, [path.join(repoRoot, 'dist/enclave.sim.mjs')], {
      env: { ...process.env, BURSAR_DATA_DIR: dir, BURSAR_ENCLAVE_LISTEN: `unix:${sock}`, BURSAR_FRAME_STALL_MS: '500' },
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    enclave.stderr!.on('data', (d: Buffer) => logs.push(d.toString()))
    await waitFor(() => logs.join('').includes('enclave listening'), 20_000, 'enclave', logs)
  })
  afterAll(() => {
    enclave?.kill('SIGKILL')
  })

  it('survives 12,000 malformed, random and hostile frames; answers a valid request after; RSS bounded', async () => {
    const rand = rng(42)
    const bystander = connect(sock)
    let rssBefore = 0
    let sent = 0
    const kinds = [
      // random bytes in a well-formed frame
      () => {
        const n = Math.floor(rand() * 300)
        const b = Buffer.alloc(n)
        for (let i = 0; i < n; i++) b[i] = Math.floor(rand() * 256)
        const f = Buffer.alloc(4 + n)
        f.writeUInt32BE(n, 0)
        b.copy(f, 4)
        return f
      },
      // valid CBOR, wrong schema
      () => encodeFrame({ id: Math.floor(rand() * 1000), msg: { type: 'agentSign', request: 7 } }),
      // unknown message type
      () => encodeFrame({ id: 1, msg: { type: `nope${Math.floor(rand() * 99)}` } }),
      // not a request frame at all
      () => encodeFrame([1, 2, 3, 'x']),
      // hello in the wrong version, and an illegal-phase request
      () => encodeFrame({ id: 2, msg: { type: 'hello', protocolVersion: 99 } }),
      () => encodeFrame({ id: 3, msg: { type: 'getWallets' } }),
      // valid frame with nested garbage
      () => encodeFrame({ id: 4, msg: { type: 'ownerAct', primaryType: 'X'.repeat(60), message: '{', signature: '0x00' } }),
      // zero-length frame
      () => Buffer.from([0, 0, 0, 0]),
    ]
    const c = connect(sock)
    for (let i = 0; i < 12_000; i++) {
      c.s.write(kinds[i % kinds.length]!())
      sent++
      if (i % 500 === 0) await new Promise((r) => setImmediate(r))
      if (i === 1_999) {
        // Warm (JIT, buffers): growth from here on must not scale with the frame count.
        await waitFor(() => c.responses.length >= sent, 30_000, 'warm-up responses')
        await new Promise((r) => setTimeout(r, 300))
        rssBefore = rssKb(enclave.pid!)
      }
    }
    await waitFor(() => c.responses.length >= sent || c.isClosed(), 30_000, 'responses')
    expect(c.isClosed()).toBe(false)
    expect(c.responses.length).toBe(sent)
    for (const r of c.responses) {
      expect(r.ok).toBe(false)
      expect(typeof (r.error as { code: string }).code).toBe('string')
    }
    const codes = new Set(c.responses.map((r) => (r.error as { code: string }).code))
    expect([...codes]).toEqual(expect.arrayContaining(['message_invalid', 'message_unknown_type', 'enclave_not_ready', 'frame_empty']))
    // A valid request afterwards, on the same and on the bystander connection.
    c.s.write(encodeFrame({ id: 77, msg: { type: 'hello', protocolVersion: 1 } }))
    bystander.s.write(encodeFrame({ id: 78, msg: { type: 'hello', protocolVersion: 1 } }))
    await waitFor(() => c.responses.some((r) => r.id === 77) && bystander.responses.some((r) => r.id === 78), 5_000, 'hello')
    expect(c.responses.find((r) => r.id === 77)).toMatchObject({ ok: true, result: { phase: 'awaiting_state' } })
    expect(rssKb(enclave.pid!) - rssBefore).toBeLessThan(32 * 1024)
    c.s.destroy()
    bystander.s.destroy()
  })

  it('closes a connection that announces an oversized frame, before allocating it', async () => {
    const c = connect(sock)
    const f = Buffer.alloc(4)
    f.writeUInt32BE(0xfffffff0, 0)
    c.s.write(f)
    await waitFor(() => c.isClosed(), 5_000, 'close')
    expect((c.responses[0]?.error as { code: string }).code).toBe('frame_too_large')
    // Random huge prefixes over fresh connections never take the enclave down.
    for (let i = 0; i < 20; i++) {
      const d = connect(sock)
      const b = Buffer.alloc(4)
      b.writeUInt32BE(MAX_FRAME_BYTES + 1 + i, 0)
      d.s.write(b)
      await waitFor(() => d.isClosed(), 5_000, 'close')
    }
    const ok = connect(sock)
    ok.s.write(encodeFrame({ id: 5, msg: { type: 'hello', protocolVersion: 1 } }))
    await waitFor(() => ok.responses.length > 0, 5_000, 'hello')
    expect(ok.responses[0]).toMatchObject({ id: 5, ok: true })
    ok.s.destroy()
  })

  it('drops a slow client that stalls mid-frame, other connections unaffected', async () => {
    const slow = connect(sock)
    const frame = encodeFrame({ id: 9, msg: { type: 'hello', protocolVersion: 1 } })
    slow.s.write(frame.subarray(0, 6)) // truncated: prefix + 2 bytes
    const other = connect(sock)
    other.s.write(encodeFrame({ id: 10, msg: { type: 'hello', protocolVersion: 1 } }))
    await waitFor(() => other.responses.length > 0, 5_000, 'other hello')
    await waitFor(() => slow.isClosed(), 5_000, 'slow client closed')
    expect(slow.responses.length).toBe(0)
    other.s.destroy()
  })

  it('handles frames split at every byte boundary and many pipelined in one write', async () => {
    const c = connect(sock)
    const frames = Array.from({ length: 200 }, (_, i) => encodeFrame({ id: 1000 + i, msg: { type: 'hello', protocolVersion: 1 } }))
    const all = Buffer.concat(frames)
    for (let i = 0; i < all.length; i += 7) c.s.write(all.subarray(i, i + 7))
    await waitFor(() => c.responses.length === 200, 10_000, '200 responses')
    expect(new Set(c.responses.map((r) => r.id)).size).toBe(200)
    c.s.destroy()
    expect(encode({}).length).toBe(1)
  })
})
