// Bench only (issue 18, c1-42): `node --import` this into the host and the enclave to append each agent request's
// sub-ms stamps, on CLOCK_MONOTONIC (ms, the same clock in every process), to $BURSAR_HOP_FILE: the host's HTTP
// request start (headers parsed), its route's entry (body read, parsed and validated: `bursar.route`), the frame
// forwarded / answer frame read / answer committed (`bursar.hop`) and the HTTP response's finish; the enclave's writer
// turns (`bursar.writer`, every length); the host's store commits (`bursar.store`). A build with fastify hook stamps
// on the route (`bursar.route` with a `stage`) adds those rows under the stage's name. Nothing happens without the variable. scripts/bench/c1Hops.ts reads it.
import { subscribe } from 'node:diagnostics_channel'
import { appendFileSync } from 'node:fs'
import { performance } from 'node:perf_hooks'

const file = process.env.BURSAR_HOP_FILE
if (file) {
  // performance.now() is CLOCK_MONOTONIC less a fixed origin: the origin once, then every stamp on the shared clock.
  const origin = Number(process.hrtime.bigint()) / 1e6 - performance.now()
  const mono = (t) => Math.round((origin + t) * 1000) / 1000
  let rows = []
  const pid = process.pid
  subscribe('http.server.request.start', ({ request }) => {
    if (request.url === '/v1/agent/sign') rows.push({ pid, ev: 'http', at: mono(performance.now()) })
  })
  subscribe('http.server.response.finish', ({ request }) => {
    if (request.url === '/v1/agent/sign') rows.push({ pid, ev: 'finish', at: mono(performance.now()) })
  })
  subscribe('bursar.route', ({ at, stage }) => rows.push({ pid, ev: stage ?? 'route', at: mono(at) }))
  subscribe('bursar.hop', ({ agentId, nonce, forward, answered, stored }) => rows.push({ pid, ev: 'hop', agentId, nonce, forward: mono(forward), answered: mono(answered), stored: mono(stored) }))
  subscribe('bursar.store', ({ step, at, ms, entries }) => {
    if (step === 'commit') rows.push({ pid, ev: 'commit', at: mono(at), ms, entries })
  })
  subscribe('bursar.writer', ({ step, at, ms, blocks }) => {
    if (step === 'turn') rows.push({ pid, ev: 'turn', at: mono(at), ms, blocks })
  })
  const flush = () => {
    if (rows.length === 0) return
    appendFileSync(file, `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`)
    rows = []
  }
  setInterval(flush, 500).unref()
  process.on('exit', flush)
}
