// Bench only (issue 18, lat18): `node --import` this into the enclave and host to append every GC (start on the
// process's monotonic clock as epoch ms, duration, kind) to $BURSAR_GC_FILE, one JSON line per process and second:
// how many GCs a request pays at c = 1 and which pauses sit in the open-loop tail. Nothing happens without the variable.
// tail39: also the enclave's periodic seals (diagnostics channel `bursar.writer`: the capture in the writer, the
// encryption in a turn of its own), its writer turns of ≥ 1 ms (first block to signature, with the block count) and
// the host's store commits of ≥ 1 ms (`bursar.store`), as rows with `ev` set ('seal capture', 'seal encrypt',
// 'writer turn', 'commit'); both channels publish nothing without this subscriber. tail41: `bursar.hop` (host):
// each agent request's forward / answer read / committed times, rows with `ev: 'hop'`.
import { subscribe } from 'node:diagnostics_channel'
import { appendFileSync } from 'node:fs'
import { PerformanceObserver, constants, performance } from 'node:perf_hooks'

const file = process.env.BURSAR_GC_FILE
if (file) {
  const KINDS = { [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major', [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor', [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental', [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb' }
  let rows = []
  const wall = (t) => Math.round((performance.timeOrigin + t) * 1000) / 1000
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) rows.push({ pid: process.pid, at: wall(e.startTime), ms: Math.round(e.duration * 1000) / 1000, kind: KINDS[e.detail?.kind ?? e.kind] ?? String(e.detail?.kind) })
  }).observe({ entryTypes: ['gc'] })
  const step = ({ step: s, at, ms, ...rest }) => {
    if ((s !== 'commit' && s !== 'turn') || ms >= 1) rows.push({ pid: process.pid, at: wall(at), ms: Math.round(ms * 1000) / 1000, kind: s, ev: s === 'commit' ? 'commit' : s === 'turn' ? 'writer turn' : `seal ${s}`, ...rest })
  }
  subscribe('bursar.writer', step)
  subscribe('bursar.store', step)
  // tail41: each agent request's host hops (frame forwarded, answer read, answer committed), on the same clock.
  subscribe('bursar.hop', ({ agentId, nonce, forward, answered, stored }) => rows.push({ pid: process.pid, ev: 'hop', agentId, nonce, forward: wall(forward), answered: wall(answered), stored: wall(stored) }))
  const flush = () => {
    if (rows.length === 0) return
    appendFileSync(file, `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`)
    rows = []
  }
  setInterval(flush, 1000).unref()
  process.on('exit', flush)
}
