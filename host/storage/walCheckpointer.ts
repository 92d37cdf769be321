/**
 * UNTRUSTED host storage: SQLite WAL checkpoints on a worker thread (issue 18). With SQLite's automatic checkpoint,
 * the commit that crosses 1,000 WAL frames copies them into the database file and fsyncs both, on the host's only
 * thread: measured in process (12 answers per commit, loaded 2-core VM) that was ~20 µs of CPU per request and
 * commit stalls of 30-140 ms (p99 / max) that every waiting answer sat behind. Here a second connection on its own
 * thread runs a PASSIVE checkpoint every `intervalMs` (it never blocks the writer; a commit stays a WAL append, as
 * before, and is durable exactly as before: persist-before-release is unchanged). If the worker cannot run, the
 * writer's own automatic checkpoint comes back.
 */
import { closeSync, openSync } from 'node:fs'
import { createRequire } from 'node:module'
import { Worker } from 'node:worker_threads'

// Every pass copies what the writer appended since the last (a page written many times in between is copied once).
// Passes come every intervalMs while the writer appends at least minFrames between two of them, else 5x less often:
// a slow writer's pass then copies about as many frames as SQLite's own 1,000-frame checkpoint did, a busy writer's more.
const WORKER = `
const { workerData, parentPort } = require('node:worker_threads')
const { fsyncSync } = require('node:fs')
const Database = require(workerData.sqlite)
const db = new Database(workerData.file)
let [last, copied] = [0, 0]
const pass = () => {
  let appended = 0
  try {
    const [r] = db.pragma('wal_checkpoint(PASSIVE)')
    appended = r.log >= last ? r.log - last : r.log
    last = r.log
    // tail42: SQLite syncs the database only after a pass that copied up to the WAL's end, which under steady commits
    // none does (frames arrive during it): the pages copied stayed unsynced until the writer's own checkpoint synced
    // them all on its thread. Synced here before the writer's checkpoint (past restartAfter), that checkpoint's sync
    // has only its own few pages to write. Not at every pass: each fsync commits the file system's journal, and the
    // writer's WAL appends wait behind such commits.
    if (r.log >= workerData.restartAfter && r.checkpointed !== copied && r.checkpointed > 0) fsyncSync(workerData.dbFd)
    copied = r.checkpointed
  } catch {}
  return appended
}
let timer = null
// tail42: each pass's WAL size (frames since its last restart) goes to the writer's thread (afterPass). Past
// restartAfter (the writer then checkpoints) a second pass first copies and syncs what arrived during the first, so
// the writer's checkpoint is left only the frames of a short pass.
const loop = () => {
  const appended = pass()
  if (last >= workerData.restartAfter) pass()
  parentPort.postMessage(last)
  timer = setTimeout(loop, appended >= workerData.minFrames ? workerData.intervalMs : 5 * workerData.intervalMs)
}
timer = setTimeout(loop, workerData.intervalMs)
parentPort.on('message', () => {
  clearTimeout(timer)
  pass()
  db.close()
  parentPort.close()
})
`

/** `stop` before the writer's connection closes; `closeFile` after it (see the fd below). */
export type WalCheckpointer = { stop(): Promise<void>; closeFile(): void }

/**
 * `fallback`: called if the worker fails or exits unasked (the caller gives the writer SQLite's own automatic
 * checkpoint back). The writer keeps a rare one of its own meanwhile (the caller's `wal_autocheckpoint`, e.g. 20,000
 * frames): a writer that never leaves a gap long enough for a pass to end would otherwise grow the WAL for good; by
 * then the passes have copied nearly every frame, so the writer's checkpoint is short and restarts the WAL.
 */
/**
 * tail42: `afterPass.run(frames)` runs on the caller's thread after each pass, with the WAL's size in frames: the
 * moment the WAL is nearly all copied and synced (past `afterPass.restartAfter` frames, after a second, short pass),
 * so a checkpoint of the writer's own then has only the frames appended during that pass left.
 */
export function startWalCheckpointer(file: string, intervalMs: number, minFrames: number, fallback: () => void, afterPass?: { restartAfter: number; run: (frames: number) => void }): WalCheckpointer {
  const sqlite = createRequire(import.meta.url).resolve('better-sqlite3')
  // tail42: a descriptor of the database file for the worker's fsync. Closing any descriptor of a file drops every POSIX
  // lock this process holds on it (SQLite's own connections' too), so it is closed only after the writer's connection.
  const dbFd = openSync(file, 'r')
  const worker = new Worker(WORKER, { eval: true, workerData: { file, intervalMs, minFrames, sqlite, dbFd, restartAfter: afterPass?.restartAfter ?? Number.POSITIVE_INFINITY } })
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
  worker.on('message', (frames: number) => afterPass?.run(frames))
  return {
    closeFile: () => closeSync(dbFd),
    async stop() {
      stopping = true
      if (exited) return
      worker.ref() // keep the process alive until the worker's last pass and close
      worker.postMessage('stop')
      await done
    },
  }
}
