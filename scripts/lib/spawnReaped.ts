import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process'

/** Every live child spawned here: SIGKILLed (whole group) if this process exits with it still running. */
const live = new Set<ChildProcess>()
let hooked = false

/**
 * `spawn`, for a child that must not outlive this process (a test's or bench's enclave, host, governance process):
 * it leads its own process group (detached, so whatever it spawns goes with it) and the group is SIGKILLed when this
 * process exits normally ('exit' hook) or any other way — SIGKILL, a vitest worker torn down after a timeout — by a
 * shell loop outside this process that checks once a second. Before this, a test that timed out left its stack
 * running (NOTES suite34). test/integration/stackDiesWithTestProcess.test.ts kills a stack's owner with SIGKILL.
 */
export function spawnReaped(command: string, args: string[], options: SpawnOptions): ChildProcess {
  const c = spawn(command, args, { ...options, detached: true })
  if (!c.pid) return c
  if (!hooked) {
    hooked = true
    process.once('exit', () => {
      for (const child of live) signalGroup(child, 'SIGKILL')
    })
  }
  live.add(c)
  c.once('exit', () => live.delete(c))
  spawn('sh', ['-c', `while kill -0 ${process.pid} 2>/dev/null && kill -0 ${c.pid} 2>/dev/null; do sleep 1; done; kill -0 ${process.pid} 2>/dev/null || kill -9 -${c.pid} 2>/dev/null`], {
    detached: true,
    stdio: 'ignore',
  }).unref()
  return c
}

const alive = (c: ChildProcess): boolean => c.exitCode === null && c.signalCode === null

/** Signals a child's whole process group (spawnReaped's children lead their own); the child alone if that fails. */
export function signalGroup(c: ChildProcess | null, sig: NodeJS.Signals): void {
  if (!c?.pid || !alive(c)) return
  try {
    process.kill(-c.pid, sig)
  } catch {
    c.kill(sig)
  }
}
