/**
 * UNTRUSTED host storage: SQLite WAL checkpoints on a worker thread (issue 18). With SQLite's automatic checkpoint,
 * the commit that crosses 1,000 WAL frames copies them into the database file and fsyncs both, on the host's only
 * thread: measured in process (12 answers per commit, loaded 2-core VM) that was ~20 µs of CPU per request and
 * commit stalls of 30-140 ms (p99 / max) that every waiting answer sat behind. Here a second connection on its own
 * thread runs a PASSIVE checkpoint every `intervalMs` (it never blocks the writer; a commit stays a WAL append, as
 * before, and is durable exactly as before: persist-before-release is unchanged). If the worker cannot run, the
 * writer's own automatic checkpoint comes back.
 */
import { createRequire } from 'node:module'
import { Worker } from 'node:worker_threads'

// Every pass copies what the writer appended since the last (a page written many times in between is copied once).
// Passes come every intervalMs while the writer appends at least minFrames between two of them, else 5x less often:
// a slow writer's pass then copies about as many frames as SQLite's own 1,000-frame checkpoint did, a busy writer's more.
const WORKER = `
const { workerData, parentPort } = require('node:worker_threads')
const Database = require(workerData.sqlite)
const db = new Database(workerData.file)
let last = 0
const pass = () => {
  let appended = 0
  try {
    const [r] = db.pragma('wal_checkpoint(PASSIVE)')
    appended = r.log >= last ? r.log - last : r.log
    last = r.log
  } catch {}
  return appended
}
let timer = null
const loop = () => { timer = setTimeout(loop, pass() >= workerData.minFrames ? workerData.intervalMs : 5 * workerData.intervalMs) }
timer = setTimeout(loop, workerData.intervalMs)
parentPort.on('message', () => {
  clearTimeout(timer)
  pass()
  db.close()
  parentPort.close()
})
`

export type WalCheckpointer = { stop(): Promise<void> }

/**
 * `fallback`: called if the worker fails or exits unasked (the caller gives the writer SQLite's own automatic
 * checkpoint back). The writer keeps a rare one of its own meanwhile (the caller's `wal_autocheckpoint`, e.g. 20,000
 * frames): a writer that never leaves a gap long enough for a pass to end would otherwise grow the WAL for good; by
 * then the passes have copied nearly every frame, so the writer's checkpoint is short and restarts the WAL.
 */
export function startWalCheckpointer(file: string, intervalMs: number, minFrames: number, fallback: () => void): WalCheckpointer {
  const sqlite = createRequire(import.meta.url).resolve('better-sqlite3')
  const worker = new Worker(WORKER, { eval: true, workerData: { file, intervalMs, minFrames, sqlite } })
  worker.unref()
  let [exited, stopping] = [false, false]
  const done = new Promise<void>((resolve) =>
    worker.once('exit', () => {
      exited = true
      if (!stopping) fallback() // an error (it is also emitted as 'error') or an exit nobody asked for
      resolve()
    }),
  )
  worker.on('error', () => {})
  return {
    async stop() {
      stopping = true
      if (exited) return
      worker.ref() // keep the process alive until the worker's last pass and close
      worker.postMessage('stop')
      await done
    },
  }
}
