// Bench only (issue 18, lat18): `node --import` this into the enclave and host to append every GC (start on the
// process's monotonic clock as epoch ms, duration, kind) to $BURSAR_GC_FILE, one JSON line per process and second:
// how many GCs a request pays at c = 1 and which pauses sit in the open-loop tail. Nothing happens without the variable.
// tail39: also the enclave's periodic seals (diagnostics channel `bursar.writer`: the capture in the writer, the
// encryption in a turn of its own), its writer turns of ≥ 1 ms (first block to signature, with the block count) and
// the host's store commits of ≥ 1 ms (`bursar.store`), as rows with `ev` set ('seal capture', 'seal encrypt',
// 'writer turn', 'commit'); both channels publish nothing without this subscriber. tail41: `bursar.hop` (host):
// each agent request's forward / answer read / committed times, rows with `ev: 'hop'`.
// tail42: with $BURSAR_WIRE_TRACE also every write to and read from a unix socket (the host ↔ enclave link; HTTP is
// TCP and left alone), with the frame ids in it: rows `ev: 'wire'`, `dir` out / in, `at` (the syscall's start),
// `ms`, `ids`, `bytes` and, for writes, `queued` (bytes libuv could not hand the kernel: the peer not reading). In the
// enclave this is the sub-ms "answer written" stamp: it patches node:net from this preload, so the enclave's code
// (its trusted closure) is unchanged; the host's `bursar.hop` rows carry the frame id to join on.
import { subscribe } from 'node:diagnostics_channel'
import net from 'node:net'
import { appendFileSync } from 'node:fs'
import { PerformanceObserver, constants, performance } from 'node:perf_hooks'

const file = process.env.BURSAR_GC_FILE
/** tail42: with the wire rows, every writer turn (its signature's time is `at + ms`), not only those of ≥ 1 ms. */
const wireOn = Boolean(process.env.BURSAR_WIRE_TRACE)
if (file) {
  const KINDS = { [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major', [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor', [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental', [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb' }
  let rows = []
  const wall = (t) => Math.round((performance.timeOrigin + t) * 1000) / 1000
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) rows.push({ pid: process.pid, at: wall(e.startTime), ms: Math.round(e.duration * 1000) / 1000, kind: KINDS[e.detail?.kind ?? e.kind] ?? String(e.detail?.kind) })
  }).observe({ entryTypes: ['gc'] })
  const step = ({ step: s, at, ms, ...rest }) => {
    if ((s !== 'commit' && s !== 'turn') || ms >= 1 || (s === 'turn' && wireOn)) rows.push({ pid: process.pid, at: wall(at), ms: Math.round(ms * 1000) / 1000, kind: s, ev: s === 'commit' ? 'commit' : s === 'turn' ? 'writer turn' : `seal ${s}`, ...rest })
  }
  subscribe('bursar.writer', step)
  subscribe('bursar.store', step)
  // tail41: each agent request's host hops (frame forwarded, answer read, answer committed), on the same clock.
  subscribe('bursar.hop', ({ agentId, nonce, id, forward, answered, stored }) => rows.push({ pid: process.pid, ev: 'hop', agentId, nonce, id, forward: wall(forward), answered: wall(answered), stored: wall(stored) }))
  if (process.env.BURSAR_WIRE_TRACE) wireTrace((r) => rows.push(r), wall)
  const flush = () => {
    if (rows.length === 0) return
    appendFileSync(file, `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`)
    rows = []
  }
  setInterval(flush, 1000).unref()
  process.on('exit', flush)
}

/** tail42: each unix-socket write and read of this process with the frame ids in it (see the header). */
function wireTrace(add, wall) {
  const pipe = (s) => s._handle?.constructor?.name === 'Pipe'
  // A frame is a 4-byte big-endian length and a CBOR map whose first key is "id" (keys sorted by length, then bytes).
  const idAt = (b, o) => {
    if ((b[o] & 0xe0) !== 0xa0 || b[o + 1] !== 0x62 || b[o + 2] !== 0x69 || b[o + 3] !== 0x64) return -1
    const v = b[o + 4]
    return v < 24 ? v : v === 24 ? b[o + 5] : v === 25 ? b.readUInt16BE(o + 5) : v === 26 ? b.readUInt32BE(o + 5) : -1
  }
  /** Per socket and direction: the ids of the frames that start in each chunk of the byte stream. */
  const scanners = new WeakMap()
  const scan = (s, dir, chunk) => {
    let st = scanners.get(s)?.[dir]
    if (!st) scanners.set(s, { ...scanners.get(s), [dir]: (st = { skip: 0, head: null }) })
    const b = st.head ? Buffer.concat([st.head, chunk]) : chunk
    st.head = null
    const ids = []
    for (let i = 0; i < b.length; ) {
      if (st.skip > 0) {
        const n = Math.min(st.skip, b.length - i)
        ;(st.skip -= n), (i += n)
      } else if (b.length - i < 13) {
        st.head = Buffer.from(b.subarray(i))
        break
      } else {
        ids.push(idAt(b, i + 4))
        ;(st.skip = b.readUInt32BE(i)), (i += 4)
      }
    }
    return ids
  }
  const P = net.Socket.prototype
  const [writev, write, push] = [P._writev, P._write, P.push]
  const out = (s, chunks, t0) => {
    const ids = [], bytes = chunks.reduce((n, c) => (ids.push(...scan(s, 'out', c)), n + c.length), 0)
    add({ pid: process.pid, ev: 'wire', dir: 'out', at: wall(t0), ms: Math.round((performance.now() - t0) * 1000) / 1000, ids, bytes, queued: s._handle?.writeQueueSize ?? 0 })
  }
  P._writev = function (data, cb) {
    if (!pipe(this)) return writev.call(this, data, cb)
    // Taken before the call: a write that completes at once lets the stream reuse the array.
    const chunks = data.map((d) => d?.chunk).filter((c) => Buffer.isBuffer(c)), t0 = performance.now()
    const r = writev.call(this, data, cb)
    out(this, chunks, t0)
    return r
  }
  P._write = function (data, encoding, cb) {
    if (!pipe(this) || !Buffer.isBuffer(data)) return write.call(this, data, encoding, cb)
    const t0 = performance.now()
    const r = write.call(this, data, encoding, cb)
    out(this, [data], t0)
    return r
  }
  P.push = function (chunk, encoding) {
    if (chunk && Buffer.isBuffer(chunk) && pipe(this)) add({ pid: process.pid, ev: 'wire', dir: 'in', at: wall(performance.now()), ids: scan(this, 'in', chunk), bytes: chunk.length })
    return push.call(this, chunk, encoding)
  }
}
