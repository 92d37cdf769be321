import { Worker } from 'node:worker_threads'
import { EnclaveError } from '../../shared/errors/EnclaveError.js'
import type { SigningPlan } from '../../core/decode/signingPlan.js'
import { type SignPlanReturnType, signPlan } from './signPlan.js'
import { type SignJob, type SignJobResult, signJobs } from './signWorker.js'

type Waiting = { resolve: (v: SignPlanReturnType) => void; reject: (e: Error) => void }

/**
 * secp256k1 signing off the writer thread. Jobs queued in one turn go to a
 * worker as one message (round-robin). With no workers it signs inline.
 * The entry file is the enclave's own bundle, started as a worker
 * (main*.ts dispatch on isMainThread), so PCR0 covers the worker code too.
 */
export class SignerPool {
  private readonly workers: Worker[] = []
  private readonly waiting = new Map<number, Waiting>()
  private batch: SignJob[] = []
  private nextId = 1
  private next = 0
  private scheduled = false

  constructor(params: { size: number; entry: string }) {
    for (let i = 0; i < params.size; i++) {
      // A signer holds no state: a small heap keeps the enclave's memory down.
      const w = new Worker(params.entry, {
        workerData: { bursarRole: 'signer' },
        resourceLimits: { maxOldGenerationSizeMb: 48, maxYoungGenerationSizeMb: 4 },
      })
      w.on('message', (results: SignJobResult[]) => this.settle(results))
      // A dead signer is dropped (its in-flight jobs fail, counted and audited already); with none left, sign inline.
      w.on('error', (err) => this.drop(w, err))
      w.on('exit', (code) => this.drop(w, new Error(`signer exited with code ${code}`)))
      w.unref()
      this.workers.push(w)
    }
  }

  get size(): number {
    return this.workers.length
  }

  sign(privateKey: Uint8Array, plan: SigningPlan): Promise<SignPlanReturnType> {
    // No workers: sign now, on this thread (the executor runs synchronously; a throw becomes the rejection).
    if (this.workers.length === 0) return new Promise((resolve) => resolve(signPlan({ privateKey, plan })))
    const id = this.nextId++
    this.batch.push({ id, privateKey, plan })
    if (!this.scheduled) {
      this.scheduled = true
      setImmediate(() => this.flush())
    }
    return new Promise((resolve, reject) => this.waiting.set(id, { resolve, reject }))
  }

  private flush(): void {
    this.scheduled = false
    const jobs = this.batch
    this.batch = []
    if (jobs.length === 0) return
    if (this.workers.length === 0) {
      // Every signer died: sign on this thread rather than leave requests hanging.
      this.settle(signJobs(jobs))
      return
    }
    // Split a large batch over the workers so they sign in parallel.
    const per = Math.ceil(jobs.length / this.workers.length)
    for (let i = 0; i < jobs.length; i += per) {
      const w = this.workers[this.next++ % this.workers.length]!
      w.postMessage(jobs.slice(i, i + per))
    }
  }

  private settle(results: SignJobResult[]): void {
    for (const r of results) {
      const w = this.waiting.get(r.id)
      if (!w) continue
      this.waiting.delete(r.id)
      if (r.ok) w.resolve(r.value)
      else w.reject(new EnclaveError(r.code as 'internal_error', 'Signing failed'))
    }
  }

  private drop(w: Worker, err: Error): void {
    const i = this.workers.indexOf(w)
    if (i < 0) return
    this.workers.splice(i, 1)
    for (const [id, job] of this.waiting) {
      this.waiting.delete(id)
      job.reject(new EnclaveError('internal_error', 'Signer worker failed', { cause: err }))
    }
  }
}
