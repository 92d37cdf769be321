import { type ChildProcess, fork } from 'node:child_process'
import path from 'node:path'
import { repoRoot } from '../lib/startStack.js'

export type ForkBenchChildReturnType<R> = {
  child: ChildProcess
  /** The child's 'ready' message. */
  ready: R
  /** Sends one message and waits for the child's `result` (or `error`) reply. */
  call<T>(message: unknown): Promise<T>
  close(): Promise<void>
}

/** Forks a bench child (a .ts entry under tsx, IPC) and waits for its `{ type: 'ready' }` message. */
export async function forkBenchChild<R = unknown>(file: string, nodeArgs: string[] = []): Promise<ForkBenchChildReturnType<R>> {
  const child = fork(path.join(repoRoot, file), [], {
    cwd: repoRoot,
    execArgv: [...nodeArgs, '--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    serialization: 'advanced', // structured clone: bigints in the samples survive IPC
  })
  const ready = await new Promise<R>((resolve, reject) => {
    child.once('message', (m) => resolve(m as R))
    child.once('exit', (code) => reject(new Error(`${file} exited before ready (${code})`)))
  })
  const close = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise<void>((r) => child.once('exit', () => r()))
    child.disconnect()
    const t = setTimeout(() => child.kill('SIGKILL'), 5_000)
    await exited
    clearTimeout(t)
  }
  const call = <T>(message: unknown) =>
    new Promise<T>((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`${file} exited (${code})`))
      child.once('exit', onExit)
      child.once('message', (m: { type: string; result?: T; message?: string }) => {
        child.off('exit', onExit)
        if (m.type === 'result') resolve(m.result as T)
        else reject(new Error(`${file} failed: ${m.message}`))
      })
      child.send(message as object)
    })
  return { child, ready, call, close }
}
