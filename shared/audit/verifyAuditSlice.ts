import { type AuditCheckpoint, type AuditEntry, AuditEntrySchema } from './auditEntry.js'
import { AUDIT_CODES, type AuditCode } from './auditCodes.js'
import { hashAuditEntry } from './hashAuditEntry.js'
import { type Ed25519PublicKeyInput, toEd25519PublicKey } from './toEd25519PublicKey.js'
import { verifyAuditCheckpoint } from './verifyAuditCheckpoint.js'
import { WalletThreads } from './walletThreads.js'

export type VerifyAuditSliceParameters = {
  /** An owner's entries (other wallets' seqs left out), ascending seq. */
  entries: readonly AuditEntry[]
  /** The hash the host recorded beside each entry (same index). */
  hashes: readonly (string | undefined)[]
  /** Checkpoints the host served at these entries' seqs. */
  checkpoints: readonly AuditCheckpoint[]
  publicKey: Ed25519PublicKeyInput
}
export type VerifyAuditSliceReturnType =
  | {
      ok: true
      count: number
      linked: number
      signed: number
      /**
       * Seqs the enclave vouches for by no signature: neither under a signed checkpoint at their seq nor linked
       * (prevHash) to a successor that is. The host could have rewritten these (and their recorded hashes) or
       * cut entries after them; a reader must not call them verified.
       */
      unvouched: number[]
    }
  | { ok: false; code: AuditCode; seq: number; message: string }

/**
 * Verifies an owner-scoped slice of the audit log (the owner's wallets only, so the chain has gaps): each
 * entry hashes to the hash recorded beside it, an entry right after another links to it by prevHash, and every
 * checkpoint at a served seq is signed by the enclave key and names that entry's hash. `linked` and `signed`
 * say how much of the slice the chain and the enclave vouch for; the full log (operator token) verifies with
 * verifyAuditLog. Returns the lowest broken seq as a value.
 */
export function verifyAuditSlice(params: VerifyAuditSliceParameters): VerifyAuditSliceReturnType {
  const key = toEd25519PublicKey(params.publicKey)
  const bySeq = new Map<number, string>()
  let linked = 0
  let prev: { seq: number; hash: string } | null = null
  // Issue 15 (rt30a): each wallet's thread must continue inside the slice (it may begin mid-thread: a page after a cursor).
  const threads = new WalletThreads(true)
  for (let i = 0; i < params.entries.length; i++) {
    const e = params.entries[i] as AuditEntry
    if (!AuditEntrySchema.safeParse(e).success) return fail(AUDIT_CODES.malformed, (e as { seq?: number }).seq ?? -1, `entry at position ${i} is malformed`)
    if (prev && e.seq <= prev.seq) return fail(AUDIT_CODES.outOfOrder, e.seq, `seq ${e.seq} comes after seq ${prev.seq}`)
    const hash = hashAuditEntry(e)
    const recorded = params.hashes[i]
    if (recorded !== undefined && recorded.toLowerCase() !== hash)
      return fail(AUDIT_CODES.entryModified, e.seq, `seq ${e.seq}: content hashes to ${hash}, recorded hash is ${recorded}`)
    if (prev && prev.seq === e.seq - 1) {
      if (e.prevHash !== prev.hash) return fail(AUDIT_CODES.prevHashMismatch, e.seq, `seq ${e.seq}: prevHash is not the hash of seq ${prev.seq}`)
      linked++
    }
    const broken = threads.next(e, hash)
    if (broken !== undefined) return fail(AUDIT_CODES.threadBroken, e.seq, `seq ${e.seq}: ${broken}`)
    bySeq.set(e.seq, hash)
    prev = { seq: e.seq, hash }
  }
  let signed = 0
  const signedSeqs = new Set<number>()
  for (const cp of [...params.checkpoints].sort((a, b) => a.seq - b.seq)) {
    if (!verifyAuditCheckpoint(cp, key)) return fail(AUDIT_CODES.checkpointInvalid, cp.seq, `checkpoint for seq ${cp.seq}: signature does not verify under the enclave key`)
    const h = bySeq.get(cp.seq)
    if (h === undefined) continue
    if (h !== cp.head) return fail(AUDIT_CODES.checkpointMismatch, cp.seq, `signed head at seq ${cp.seq} is ${cp.head}, the entry hashes to ${h}`)
    if (!signedSeqs.has(cp.seq)) signed++
    signedSeqs.add(cp.seq)
  }
  // Vouched: signed at its own seq, or named (prevHash, checked above) by a vouched successor right after it, or
  // (walletPrev, checked above) by its wallet's next thread entry when that one is vouched.
  const unvouched: number[] = []
  let next: { seq: number; vouched: boolean } | null = null
  const nextInThread = new Map<string, boolean>()
  for (let i = params.entries.length - 1; i >= 0; i--) {
    const { seq, wallet, walletSeq } = params.entries[i] as AuditEntry
    const w = walletSeq === undefined || wallet === null ? undefined : wallet.toLowerCase()
    const vouched: boolean = signedSeqs.has(seq) || (next !== null && next.vouched && next.seq === seq + 1) || (w !== undefined && nextInThread.get(w) === true)
    if (!vouched) unvouched.unshift(seq)
    next = { seq, vouched }
    if (w !== undefined) nextInThread.set(w, vouched)
  }
  return { ok: true, count: params.entries.length, linked, signed, unvouched }
}

function fail(code: AuditCode, seq: number, message: string): VerifyAuditSliceReturnType {
  return { ok: false, code, seq, message }
}
