import { type ChildProcess, fork } from 'node:child_process'
import path from 'node:path'
import { repoRoot } from '../lib/startStack.js'
import type { RunLoadParameters, RunLoadReturnType } from './runLoad.js'

type Reply = { type: 'ready' } | { type: 'result'; id: number; result: RunLoadReturnType } | { type: 'error'; id: number; message: string }

/** The load generator in its own Node process (IPC-driven), so it never competes with the bench parent's event loop. */
export class LoadGenerator {
  private nextId = 0
  private readonly waiting = new Map<number, { resolve: (r: RunLoadReturnType) => void; reject: (e: Error) => void }>()

  private constructor(readonly child: ChildProcess) {
    child.on('message', (m: Reply) => {
      if (m.type === 'ready') return
      const w = this.waiting.get(m.id)
      this.waiting.delete(m.id)
      if (m.type === 'result') w?.resolve(m.result)
      else w?.reject(new Error(`load generator failed: ${m.message}`))
    })
    child.on('exit', (code) => {
      for (const w of this.waiting.values()) w.reject(new Error(`load generator exited (${code})`))
      this.waiting.clear()
    })
  }

  /** Forks scripts/bench/loadGeneratorProcess.ts under tsx and waits until it is ready. */
  static async start(): Promise<LoadGenerator> {
    const child = fork(path.join(repoRoot, 'scripts/bench/loadGeneratorProcess.ts'), [], {
      cwd: repoRoot,
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    })
    await new Promise<void>((resolve, reject) => {
      child.once('message', () => resolve())
      child.once('exit', (code) => reject(new Error(`load generator exited before ready (${code})`)))
    })
    return new LoadGenerator(child)
  }

  get pid(): number {
    return this.child.pid ?? -1
  }

  run(params: RunLoadParameters): Promise<RunLoadReturnType> {
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject })
      this.child.send({ type: 'run', id, params })
    })
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return
    const exited = new Promise<void>((r) => this.child.once('exit', () => r()))
    this.child.disconnect()
    const t = setTimeout(() => this.child.kill('SIGKILL'), 3_000)
    await exited
    clearTimeout(t)
  }
}
