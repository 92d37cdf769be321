import type { Persist, ResponseFrame, WireError } from '../../shared/protocol/messages.js'
import { exactCheckpoint } from './exactCheckpoint.js'
import { hasExactKeys, isInt } from './exactShape.js'

const OK_REQUIRED = ['id', 'ok', 'result']
const ERR_REQUIRED = ['id', 'ok', 'error']
const OPTIONAL = ['persist']
const ERROR_REQUIRED = ['code', 'message']
const ERROR_OPTIONAL = ['rule', 'remaining', 'pendingId', 'retryAfterMs']
const PERSIST_REQUIRED = ['entries', 'checkpoint', 'sealed']
const NONE: string[] = []

/**
 * Issue 18 (host34): what `ResponseFrameSchema` returns for `frame`, when certain (keys in the schema's order, as zod
 * builds it; a persist block without a sealed snapshot); null: not sure — run the schema (a seal, anything else).
 * Differential test: exactAnswerChecks.test.ts.
 */
export function exactResponseFrame(frame: unknown): ResponseFrame | null {
  const f = frame as Record<string, unknown> | null
  if (typeof f !== 'object' || f === null || !isInt(f.id)) return null
  let persist: Persist | undefined
  if (f.persist !== undefined && !(persist = exactPersist(f.persist) ?? undefined)) return null
  if (f.ok === true) {
    if (!hasExactKeys(f, OK_REQUIRED, OPTIONAL)) return null
    return persist ? { id: f.id, ok: true, result: f.result, persist } : { id: f.id, ok: true, result: f.result }
  }
  if (f.ok !== false || !hasExactKeys(f, ERR_REQUIRED, OPTIONAL)) return null
  const error = exactWireError(f.error)
  if (!error) return null
  return persist ? { id: f.id, ok: false, error, persist } : { id: f.id, ok: false, error }
}

function exactWireError(e: unknown): WireError | null {
  if (!hasExactKeys(e, ERROR_REQUIRED, ERROR_OPTIONAL)) return null
  const { code, message, rule, remaining, pendingId, retryAfterMs } = e
  if (typeof code !== 'string' || typeof message !== 'string') return null
  const out: WireError = { code, message }
  for (const [k, v] of [['rule', rule], ['remaining', remaining], ['pendingId', pendingId]] as const) {
    if (v === undefined) continue
    if (typeof v !== 'string') return null
    out[k] = v
  }
  if (retryAfterMs !== undefined) {
    if (!Number.isFinite(retryAfterMs)) return null
    out.retryAfterMs = retryAfterMs as number
  }
  return out
}

function exactPersist(p: unknown): Persist | null {
  if (!hasExactKeys(p, PERSIST_REQUIRED, NONE)) return null
  if (p.sealed !== null) return null
  const entries = p.entries
  if (!Array.isArray(entries) || Object.getPrototypeOf(entries) !== Array.prototype) return null
  // zod returns a new array of the indices only (this one is kept as it is): one with other own keys is left to zod.
  if (Object.keys(entries).length !== entries.length) return null
  for (let i = 0; i < entries.length; i++) if (typeof entries[i] !== 'string') return null
  if (p.checkpoint === null) return { entries, checkpoint: null, sealed: null }
  const checkpoint = exactCheckpoint(p.checkpoint)
  return checkpoint ? { entries, checkpoint, sealed: null } : null
}
