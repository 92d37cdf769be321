import { FrameError, MAX_FRAME_BYTES } from './frame.js'

/**
 * Incremental frame splitter for a byte stream. Feed it chunks; it yields
 * complete frame bodies. An oversized length prefix is reported before any
 * allocation for the body, after which the stream must be closed.
 */
export class FrameReader {
  private chunks: Buffer[] = []
  private buffered = 0
  private need = -1

  constructor(private readonly maxFrameBytes = MAX_FRAME_BYTES) {}

  /** Returns the complete frame bodies contained so far; throws FrameError on an oversized prefix. */
  push(chunk: Buffer): Buffer[] {
    this.chunks.push(chunk)
    this.buffered += chunk.length
    const out: Buffer[] = []
    for (;;) {
      if (this.need < 0) {
        if (this.buffered < 4) break
        const len = this.peekLength()
        if (len > this.maxFrameBytes) {
          // SECURITY: refuse before allocating; the caller closes the connection.
          throw new FrameError('frame_too_large', `Frame length ${len} exceeds ${this.maxFrameBytes}`)
        }
        this.take(4)
        this.need = len
      }
      if (this.buffered < this.need) break
      out.push(this.take(this.need))
      this.need = -1
    }
    return out
  }

  /** Bytes held waiting for the rest of a frame. */
  get pendingBytes(): number {
    return this.buffered
  }

  private peekLength(): number {
    // The 4-byte prefix may span chunks: merge them first.
    if (this.chunks[0]!.length < 4) this.chunks = [Buffer.concat(this.chunks)]
    return this.chunks[0]!.readUInt32BE(0)
  }

  private take(n: number): Buffer {
    if (n === 0) return Buffer.alloc(0)
    const first = this.chunks[0]!
    if (first.length >= n) {
      const out = first.subarray(0, n)
      if (first.length === n) this.chunks.shift()
      else this.chunks[0] = first.subarray(n)
      this.buffered -= n
      return out
    }
    const merged = Buffer.concat(this.chunks)
    const out = merged.subarray(0, n)
    this.chunks = merged.length > n ? [merged.subarray(n)] : []
    this.buffered -= n
    return out
  }
}
