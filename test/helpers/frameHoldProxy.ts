import { rmSync } from 'node:fs'
import net from 'node:net'
import { FrameReader } from '../../shared/protocol/FrameReader.js'
import { decodeFrameBody } from '../../shared/protocol/frame.js'

/** A response frame with audit entries: its last entry's seq and its checkpoint's (-1: none). */
export type AheadFrame = { lastSeq: number; checkpointSeq: number }

export type FrameHoldProxy = {
  /** The unix socket the host connects to (BURSAR_ENCLAVE=unix:<path>). */
  path: string
  /** Response frames seen whose checkpoint runs past their own entries. */
  ahead: number
  /**
   * Arms the proxy: the next response frame whose checkpoint is past its own entries goes through, and every
   * enclave → host frame after it is held back. Resolves once that frame was forwarded.
   */
  holdAfterAhead(): Promise<AheadFrame>
  /** Arms the proxy on the next response frame that carries audit entries (an agent's answer), whatever its checkpoint. */
  holdAfterEntries(): Promise<AheadFrame>
  /** Frames held back so far. */
  readonly held: number
  /** Sends the held frames on, in order, and stops holding. */
  release(): void
  /** Forgets the held frames (they never reach the host) and stops holding. */
  drop(): void
  /**
   * Stops accepting (and cuts the open connections) until `listen()`: while the enclave is down the host's connects
   * are refused, as on the real channel, instead of accepted and then closed.
   */
  unlisten(): Promise<void>
  listen(): Promise<void>
  close(): Promise<void>
}

/**
 * A loopback proxy on the host ↔ enclave channel (unix sockets) that reads the enclave's response frames: the host's
 * bytes go through as they come; the enclave's frames go through one by one unless held. What a slow network or a
 * busy host does when the answers that share one batched checkpoint arrive in different turns, made deterministic.
 */
export async function frameHoldProxy(path: string, upstream: string): Promise<FrameHoldProxy> {
  let armed: ((f: AheadFrame) => void) | null = null
  let armedOnAny = false
  let holding = false
  let held: Array<{ to: net.Socket; bytes: Buffer }> = []
  const sockets = new Set<net.Socket>()
  const server = net.createServer((host) => {
    const enclave = net.connect(upstream)
    sockets.add(host).add(enclave)
    const reader = new FrameReader()
    const closeBoth = () => {
      host.destroy()
      enclave.destroy()
    }
    host.on('close', () => (sockets.delete(host), enclave.destroy()))
    enclave.on('close', () => (sockets.delete(enclave), host.destroy()))
    host.on('error', closeBoth)
    enclave.on('error', closeBoth)
    host.on('data', (d) => enclave.write(d))
    enclave.on('data', (d) => {
      for (const body of reader.push(d)) {
        const bytes = Buffer.allocUnsafe(4 + body.length)
        bytes.writeUInt32BE(body.length, 0)
        bytes.set(body, 4)
        if (holding) {
          held.push({ to: host, bytes })
          continue
        }
        host.write(bytes)
        const frame = decodeFrameBody(body) as { persist?: { entries: string[]; checkpoint: { seq: number } | null } }
        const p = frame.persist
        if (!p || p.entries.length === 0) continue
        if (!p.checkpoint) p.checkpoint = { seq: -1 }
        const lastSeq = (JSON.parse(p.entries[p.entries.length - 1]!) as { seq: number }).seq
        const isAhead = p.checkpoint.seq > lastSeq
        if (isAhead) proxy.ahead++
        if (armed && (isAhead || armedOnAny)) {
          holding = true
          const resolve = armed
          armed = null
          resolve({ lastSeq, checkpointSeq: p.checkpoint.seq })
        }
      }
    })
  })
  const listen = async () => {
    rmSync(path, { force: true })
    await new Promise<void>((r) => server.listen(path, r))
  }
  const unlisten = () =>
    new Promise<void>((r) => {
      for (const s of sockets) s.destroy()
      server.close(() => r())
    })
  await listen()
  const proxy: FrameHoldProxy = {
    path,
    ahead: 0,
    holdAfterAhead: () => new Promise((resolve) => ((armedOnAny = false), (armed = resolve))),
    holdAfterEntries: () => new Promise((resolve) => ((armedOnAny = true), (armed = resolve))),
    get held() {
      return held.length
    },
    release() {
      holding = false
      const frames = held
      held = []
      for (const f of frames) if (!f.to.destroyed) f.to.write(f.bytes)
    },
    drop() {
      holding = false
      held = []
    },
    unlisten,
    listen,
    close: () => (server.listening ? unlisten() : Promise.resolve()),
  }
  return proxy
}
