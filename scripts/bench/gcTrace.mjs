// Bench only (issue 18, lat18): `node --import` this into the enclave and host to append every GC (start on the
// process's monotonic clock as epoch ms, duration, kind) to $BURSAR_GC_FILE, one JSON line per process and second:
// how many GCs a request pays at c = 1 and which pauses sit in the open-loop tail. Nothing happens without the variable.
import { appendFileSync } from 'node:fs'
import { PerformanceObserver, constants, performance } from 'node:perf_hooks'

const file = process.env.BURSAR_GC_FILE
if (file) {
  const KINDS = { [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major', [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor', [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental', [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb' }
  let rows = []
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) rows.push({ pid: process.pid, at: Math.round((performance.timeOrigin + e.startTime) * 1000) / 1000, ms: Math.round(e.duration * 1000) / 1000, kind: KINDS[e.detail?.kind ?? e.kind] ?? String(e.detail?.kind) })
  }).observe({ entryTypes: ['gc'] })
  const flush = () => {
    if (rows.length === 0) return
    appendFileSync(file, `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`)
    rows = []
  }
  setInterval(flush, 1000).unref()
  process.on('exit', flush)
}
