// Preloaded into the enclave process by scripts/bench/memoryRun.ts only (node --expose-gc --import this file): on
// SIGUSR2 it runs a full GC and appends one JSON line of process.memoryUsage() + V8 heap spaces to
// BURSAR_MEM_SAMPLE_FILE, so the driver can read the enclave's live heap (what is retained, not garbage) at intervals.
// Not part of any enclave bundle.
import { appendFileSync } from 'node:fs'
import v8 from 'node:v8'

const file = process.env.BURSAR_MEM_SAMPLE_FILE
if (file) {
  process.on('SIGUSR2', () => {
    const before = process.memoryUsage()
    globalThis.gc?.()
    const after = process.memoryUsage()
    const spaces = Object.fromEntries(v8.getHeapSpaceStatistics().map((s) => [s.space_name, { size: s.space_size, used: s.space_used_size }]))
    // BURSAR_MEM_HEAPSNAPSHOT=path: also a heap snapshot there (the newest sample's), to see what the heap holds.
    if (process.env.BURSAR_MEM_HEAPSNAPSHOT) v8.writeHeapSnapshot(process.env.BURSAR_MEM_HEAPSNAPSHOT)
    appendFileSync(file, `${JSON.stringify({ at: Date.now(), before, after, spaces })}\n`)
  })
}
