import type { KeyObject } from 'node:crypto'
import { canonicalJson } from '../canonical/canonicalJson.js'
import {
  type AuditCheckpoint,
  type AuditEntry,
  type AuditHead,
  AuditCheckpointSchema,
  AuditEntrySchema,
} from './auditEntry.js'
import { AUDIT_CODES, type AuditCode } from './auditCodes.js'
import { GENESIS_HASH, hashCanonicalAuditEntry } from './hashAuditEntry.js'
import { type Ed25519PublicKeyInput, toEd25519PublicKey } from './toEd25519PublicKey.js'
import { verifyAuditCheckpoint } from './verifyAuditCheckpoint.js'
import { WalletThreads } from './walletThreads.js'

export type VerifyAuditLogParameters = {
  /** Entries in log order. A log may start after genesis only when anchored by `sinceHead` at seq - 1. */
  entries: readonly AuditEntry[]
  /** Hash recorded beside each entry in the export (same index as `entries`); checked when present. */
  hashes?: readonly (string | undefined)[] | undefined
  checkpoints?: readonly AuditCheckpoint[] | undefined
  /** The enclave's attested Ed25519 receipt key. */
  publicKey: Ed25519PublicKeyInput
  /** A head the auditor saw before (high-water mark): must be in this log, unchanged. */
  sinceHead?: { seq?: number | undefined; hash: string } | undefined
  /** A head the log must reach (e.g. from an attestation document or a receipt). */
  expectedHead?: AuditHead | undefined
}

export type VerifyAuditLogReturnType =
  | {
      ok: true
      /** Last entry verified (seq -1 and GENESIS_HASH for an empty log). */
      head: AuditHead
      /** Highest signed checkpoint: entries after it are not yet authenticated by the enclave. */
      signedHead: AuditHead | null
      count: number
    }
  | { ok: false; code: AuditCode; seq: number; message: string }

export type Failure = { code: AuditCode; seq: number; message: string }

/**
 * Verifies an exported audit log offline: hash links, sequence, recorded
 * hashes, checkpoint signatures and heads, forks, truncation and rollback.
 * Returns the lowest broken sequence number as a value; throws only for a bad key.
 */
export function verifyAuditLog(params: VerifyAuditLogParameters): VerifyAuditLogReturnType {
  const { entries, hashes: recorded, sinceHead, expectedHead } = params
  const key = toEd25519PublicKey(params.publicKey)
  let failure: Failure | undefined
  // Keep the lowest seq; on a tie the earlier (more specific) check wins.
  const fail = (code: AuditCode, seq: number, message: string) => {
    if (failure === undefined || seq < failure.seq) failure = { code, seq, message }
  }

  // A partial log must be anchored by the auditor's own earlier head.
  const firstSeq = (entries[0] as { seq?: unknown } | undefined)?.seq
  const anchored =
    typeof firstSeq === 'number' && firstSeq > 0 && sinceHead?.seq === firstSeq - 1
  const start = anchored ? firstSeq : 0
  let prev = anchored ? sinceHead.hash.toLowerCase() : GENESIS_HASH
  const anchorHash = prev

  // Entries: stop at the first broken one; everything after it is unverifiable.
  const hashes: string[] = []
  const threads = new WalletThreads(anchored)
  for (let i = 0; i < entries.length; i++) {
    const expected = start + i
    const e = entries[i]
    if (!AuditEntrySchema.safeParse(e).success) {
      fail(AUDIT_CODES.malformed, expected, `entry at position ${i} (expected seq ${expected}) is malformed`)
      break
    }
    const entry = e as AuditEntry
    if (entry.seq !== expected) {
      misplaced(entries, i, expected, start, hashes, fail)
      break
    }
    if (entry.prevHash !== prev) {
      fail(AUDIT_CODES.prevHashMismatch, expected, `seq ${expected}: prevHash ${entry.prevHash} is not the hash of seq ${expected - 1} (${prev})`)
      break
    }
    const hash = safeHash(entry)
    if (hash === undefined) {
      fail(AUDIT_CODES.malformed, expected, `seq ${expected} cannot be canonicalized`)
      break
    }
    const claimed = recorded?.[i]
    if (claimed !== undefined && claimed.toLowerCase() !== hash) {
      fail(AUDIT_CODES.entryModified, expected, `seq ${expected}: content hashes to ${hash}, recorded hash is ${claimed}`)
      break
    }
    const broken = threads.next(entry, hash)
    if (broken !== undefined) {
      fail(AUDIT_CODES.threadBroken, expected, `seq ${expected}: ${broken}`)
      break
    }
    hashes.push(hash)
    prev = hash
  }
  return finishAuditVerify({ hashes: listOf(hashes), start, anchorHash, prev, checkpoints: params.checkpoints, key, sinceHead, expectedHead, failure })
}

function safeHash(entry: AuditEntry): string | undefined {
  try {
    return hashCanonicalAuditEntry(entry.prevHash, canonicalJson(entry))
  } catch {
    return undefined
  }
}

/** Classifies an entry whose seq is not the expected one: fork, duplicate, reorder or gap. */
function misplaced(
  entries: readonly AuditEntry[],
  i: number,
  expected: number,
  start: number,
  hashes: readonly string[],
  fail: (code: AuditCode, seq: number, message: string) => void,
): void {
  const entry = entries[i] as AuditEntry
  if (entry.seq < expected) {
    const earlier = hashes[entry.seq - start]
    if (earlier !== undefined && earlier !== safeHash(entry))
      fail(AUDIT_CODES.fork, entry.seq, `two different entries for seq ${entry.seq}`)
    else fail(AUDIT_CODES.outOfOrder, entry.seq, `seq ${entry.seq} appears again after seq ${expected - 1}`)
    return
  }
  for (let j = i + 1; j < entries.length; j++) {
    if ((entries[j] as { seq?: unknown } | undefined)?.seq === expected) {
      fail(AUDIT_CODES.outOfOrder, expected, `seq ${expected} appears out of order (seq ${entry.seq} comes first)`)
      return
    }
  }
  fail(AUDIT_CODES.sequenceGap, expected, `seq ${expected} is missing (next entry is seq ${entry.seq})`)
}

function findSeq(hashes: HashList, start: number, anchor: string, hash: string): number | undefined {
  const wanted = hash.toLowerCase()
  if (wanted === anchor) return start - 1
  const i = hashes.indexOf(wanted)
  return i < 0 ? undefined : start + i
}

/** Entry hashes by position: `get` is undefined outside 0..length-1 (a plain array, or the fast path's packed digests). */
export type HashList = { readonly length: number; get(i: number): string | undefined; indexOf(hash: string): number }

const listOf = (hashes: readonly string[]): HashList => ({
  length: hashes.length,
  get: (i) => hashes[i],
  indexOf: (hash) => hashes.indexOf(hash),
})

export type FinishAuditVerifyParameters = {
  /** Entry hashes from seq `start` on, as far as the entries verified. */
  hashes: HashList
  start: number
  anchorHash: string
  /** Hash of the last verified entry (anchorHash when none). */
  prev: string
  checkpoints: readonly AuditCheckpoint[] | undefined
  key: KeyObject
  sinceHead: VerifyAuditLogParameters['sinceHead']
  expectedHead: AuditHead | undefined
  /** The entries' own failure, if any. */
  failure: Failure | undefined
}

/**
 * The checks after the entry loop: checkpoint signatures, forks and heads,
 * the auditor's sinceHead and expectedHead. Shared by verifyAuditLog and the
 * verifier-only fast path (verifyAuditJsonl), so both decide the same way.
 */
export function finishAuditVerify(p: FinishAuditVerifyParameters): VerifyAuditLogReturnType {
  const { hashes, start, anchorHash, prev, key, sinceHead, expectedHead } = p
  let failure = p.failure
  const fail = (code: AuditCode, seq: number, message: string) => {
    if (failure === undefined || seq < failure.seq) failure = { code, seq, message }
  }
  const last = start + hashes.length - 1
  const hashAt = (seq: number): string | undefined =>
    seq === start - 1 ? anchorHash : hashes.get(seq - start)

  // Checkpoints: signature, fork between signed heads, head against the log.
  const signed = new Map<number, string>()
  for (const cp of p.checkpoints ?? []) {
    const parsed = AuditCheckpointSchema.safeParse(cp)
    if (!parsed.success) {
      const seq = typeof (cp as { seq?: unknown }).seq === 'number' ? (cp as { seq: number }).seq : 0
      fail(AUDIT_CODES.malformed, seq, `checkpoint for seq ${seq} is malformed`)
      continue
    }
    if (!verifyAuditCheckpoint(cp, key)) {
      fail(AUDIT_CODES.checkpointInvalid, cp.seq, `checkpoint for seq ${cp.seq}: signature does not verify under the enclave key`)
      continue
    }
    const other = signed.get(cp.seq)
    if (other !== undefined && other !== cp.head) {
      fail(AUDIT_CODES.fork, cp.seq, `two validly signed checkpoints for seq ${cp.seq} with heads ${other} and ${cp.head}: proof of a fork`)
      continue
    }
    signed.set(cp.seq, cp.head)
    if (cp.seq < start - 1) continue // before a partial log's anchor: checked when that part was verified
    if (cp.seq > last) fail(AUDIT_CODES.truncated, last + 1, `log ends at seq ${last}, before the signed checkpoint at seq ${cp.seq}`)
    else if (hashAt(cp.seq) !== cp.head)
      fail(AUDIT_CODES.checkpointMismatch, cp.seq, `signed head at seq ${cp.seq} is ${cp.head}, the log's entry hashes to ${hashAt(cp.seq)}`)
  }

  if (sinceHead !== undefined) {
    const seq = sinceHead.seq ?? findSeq(hashes, start, anchorHash, sinceHead.hash)
    if (seq === undefined) fail(AUDIT_CODES.rollback, last + 1, `the head seen before (${sinceHead.hash}) is not in this log`)
    else if (seq > last) fail(AUDIT_CODES.rollback, last + 1, `log ends at seq ${last}, before the head seen at seq ${seq}`)
    else if (seq < start - 1 || hashAt(seq) !== sinceHead.hash.toLowerCase())
      fail(AUDIT_CODES.rollback, seq, `seq ${seq} hashes to ${hashAt(seq) ?? '(not in log)'}, the head seen before was ${sinceHead.hash}`)
  }
  if (expectedHead !== undefined) {
    if (expectedHead.seq > last) fail(AUDIT_CODES.truncated, last + 1, `log ends at seq ${last}, before the expected head at seq ${expectedHead.seq}`)
    else if (hashAt(expectedHead.seq) !== expectedHead.hash.toLowerCase())
      fail(AUDIT_CODES.headMismatch, expectedHead.seq, `seq ${expectedHead.seq} hashes to ${hashAt(expectedHead.seq) ?? '(not in log)'}, expected ${expectedHead.hash}`)
  }

  if (failure !== undefined) return { ok: false, ...failure }
  let signedHead: AuditHead | null = null
  for (const [seq, hash] of signed) if (signedHead === null || seq > signedHead.seq) signedHead = { seq, hash }
  return { ok: true, head: { seq: last, hash: prev }, signedHead, count: hashes.length }
}
