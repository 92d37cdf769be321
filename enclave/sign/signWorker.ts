/**
 * TRUST: a signing thread inside the enclave process (same trust domain as
 * the main thread). It signs exactly the plans the writer already decoded,
 * checked, counted and audited; it decides nothing.
 */
import { parentPort } from 'node:worker_threads'
import type { SigningPlan } from '../../core/decode/signingPlan.js'
import { type SignPlanReturnType, signPlan } from './signPlan.js'

export type SignJob = { id: number; privateKey: Uint8Array; plan: SigningPlan }
export type SignJobResult = { id: number; ok: true; value: SignPlanReturnType } | { id: number; ok: false; code: string }

/** Runs the worker loop: batches of jobs in, batches of results out. */
export function runSignWorker(): void {
  parentPort?.on('message', (jobs: SignJob[]) => parentPort?.postMessage(signJobs(jobs)))
}

/** Signs a batch; a failed job carries its error code only (the key stays out of it). */
export function signJobs(jobs: SignJob[]): SignJobResult[] {
  return jobs.map((j) => {
    try {
      return { id: j.id, ok: true, value: signPlan({ privateKey: j.privateKey, plan: j.plan }) }
    } catch (err) {
      return { id: j.id, ok: false, code: (err as { code?: string }).code ?? 'internal_error' }
    }
  })
}
