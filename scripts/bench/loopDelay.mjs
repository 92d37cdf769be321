// Bench only (issue 18): `node --import` this into the enclave and host to append, every second, the event loop's
// delay (max / p99 / mean in ms, perf_hooks.monitorEventLoopDelay) to $BURSAR_LOOP_DELAY_FILE, one JSON line per
// process and second ($BURSAR_LOOP_DELAY_EVERY_MS: another period): which loop holds the open-loop tail. Nothing
// happens without the variable.
import { appendFileSync } from 'node:fs'
import { monitorEventLoopDelay } from 'node:perf_hooks'

const file = process.env.BURSAR_LOOP_DELAY_FILE
if (file) {
  const h = monitorEventLoopDelay({ resolution: 1 })
  h.enable()
  setInterval(() => {
    const ms = (ns) => Math.round(ns / 1e4) / 100
    appendFileSync(file, `${JSON.stringify({ pid: process.pid, t: Date.now(), max: ms(h.max), p99: ms(h.percentile(99)), mean: ms(h.mean) })}\n`)
    h.reset()
  }, Number(process.env.BURSAR_LOOP_DELAY_EVERY_MS ?? 1000)).unref()
}
