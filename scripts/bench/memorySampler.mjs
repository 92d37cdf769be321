// Preloaded into the enclave process by scripts/bench/memoryRun.ts and memoryE2e.ts only (node --expose-gc --import
// this file): on SIGUSR2 it runs a full GC and appends one JSON line of process.memoryUsage() + V8 heap spaces to
// BURSAR_MEM_SAMPLE_FILE, so the driver can read the enclave's live heap (what is retained, not garbage) at intervals.
// BURSAR_MEM_MONITOR_MS=n: also, every n ms, one line without a GC ({ monitor: true, ... }): RSS, heap spaces (size
// and used), external, array buffers — where the RSS is at every moment of a run, garbage included.
// Not part of any enclave bundle.
import { appendFileSync, readFileSync } from 'node:fs'
import v8 from 'node:v8'
import { PerformanceObserver, constants } from 'node:perf_hooks'

const file = process.env.BURSAR_MEM_SAMPLE_FILE
const spacesNow = () => Object.fromEntries(v8.getHeapSpaceStatistics().map((s) => [s.space_name, { size: s.space_size, used: s.space_used_size }]))
if (file) {
  // Main-thread GC pauses by kind since start (count, total ms, max ms): what a flag's GCs cost the writer's latency.
  const pauses = { minor: [0, 0, 0], major: [0, 0, 0], other: [0, 0, 0] }
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const k = e.detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR ? 'minor' : e.detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR ? 'major' : 'other'
      const p = pauses[k]
      p[0]++
      p[1] += e.duration
      p[2] = Math.max(p[2], e.duration)
    }
  }).observe({ entryTypes: ['gc'] })
  process.on('SIGUSR2', () => {
    const gcPauses = JSON.parse(JSON.stringify(pauses))
    const before = process.memoryUsage()
    const spacesBefore = spacesNow()
    globalThis.gc?.()
    const after = process.memoryUsage()
    const spaces = spacesNow()
    // BURSAR_MEM_HEAPSNAPSHOT=path: also a heap snapshot there (the newest sample's), to see what the heap holds.
    if (process.env.BURSAR_MEM_HEAPSNAPSHOT) v8.writeHeapSnapshot(process.env.BURSAR_MEM_HEAPSNAPSHOT)
    appendFileSync(file, `${JSON.stringify({ at: Date.now(), before, after, spaces, spacesBefore, gcPauses })}\n`)
  })
  const every = Number(process.env.BURSAR_MEM_MONITOR_MS ?? 0)
  if (every > 0) {
    // RssAnon / RssFile split from /proc: node's own file-backed pages are not the heap.
    const status = () => {
      const s = readFileSync('/proc/self/status', 'utf8')
      const kb = (k) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(s)?.[1] ?? 0) * 1024
      return { rssAnon: kb('RssAnon'), rssFile: kb('RssFile') }
    }
    const t = setInterval(() => {
      const h = v8.getHeapStatistics()
      appendFileSync(file, `${JSON.stringify({ monitor: true, at: Date.now(), ...process.memoryUsage(), ...status(), malloced: h.malloced_memory, peakMalloced: h.peak_malloced_memory, committed: h.total_physical_size, spaces: spacesNow() })}\n`)
    }, every)
    t.unref()
  }
}
