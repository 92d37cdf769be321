import { canonicalJson } from '../canonical/canonicalJson.js'
import { type AuditCheckpoint, type AuditEntry, AuditCheckpointSchema, AuditEntrySchema } from './auditEntry.js'
import { AUDIT_CODES, type AuditCode } from './auditCodes.js'
import { hashCanonicalAuditEntry } from './hashAuditEntry.js'
import { type Ed25519PublicKeyInput, toEd25519PublicKey } from './toEd25519PublicKey.js'
import { verifyAuditCheckpoint } from './verifyAuditCheckpoint.js'
import { verifyAuditLog } from './verifyAuditLog.js'
import { type AuditReceipt, AuditReceiptSchema } from './verifyReceipt.js'
import { threadBreak } from './walletThreads.js'

export type VerifyWalletThreadParameters = {
  /** The wallet whose thread to verify (any case). */
  wallet: string
  /** An export: the whole log, or one wallet's entries only (host `/v1/audit/export?wallet=`), ascending seq. */
  entries: readonly AuditEntry[]
  hashes?: readonly (string | undefined)[] | undefined
  checkpoints?: readonly AuditCheckpoint[] | undefined
  publicKey: Ed25519PublicKeyInput
  /**
   * Agents' receipts for this wallet (rt30a): each must sit in the thread — its checkpoint signed and covering it, an
   * entry at its seq with its entryHash (and walletSeq). The cut check a one-wallet export allows: a receipt's
   * walletSeq alone is signed by nothing, and verifyReceipt needs a contiguous range up to the receipt's checkpoint.
   */
  receipts?: readonly AuditReceipt[] | undefined
  /**
   * A thread head seen before (an agent's receipt: its walletSeq and entryHash, or an earlier verification's last
   * entry): the thread must contain it unchanged, else `audit_rollback` (cut before it, or rewritten).
   */
  sinceHead?: { walletSeq: number; hash: string } | undefined
}

export type WalletThreadEntry = { seq: number; walletSeq: number; hash: string; event: AuditEntry['event']; time: number }

export type VerifyWalletThreadReturnType =
  | {
      ok: true
      wallet: string
      /** The input was the whole log from seq 0 (the global chain, its checkpoints and every thread verified too). */
      complete: boolean
      /** The wallet's threaded entries, in order (walletSeq 1, 2, …). */
      thread: WalletThreadEntry[]
      /** Entries of this wallet written before threads existed (no walletSeq): linked only by the global chain. */
      unthreaded: number
      /**
       * The last thread entry the enclave's signature covers: a checkpoint at its seq names its hash (one-wallet
       * export), or the whole log's highest signed checkpoint is at or after it (complete). Each entry's hash covers
       * its walletPrev, so that signature vouches for the thread from walletSeq 1 up to there; later entries are
       * only as good as the host that served them.
       */
      signedThrough: WalletThreadEntry | null
    }
  | { ok: false; code: AuditCode; seq: number; message: string }

/**
 * Verifies one wallet's audit thread (issue 15 step 2): every entry of the wallet hashes to its recorded hash, the
 * threaded ones run walletSeq 1, 2, … without a gap, repeat or reorder, each walletPrev is the hash of the wallet's
 * previous entry, and every checkpoint given verifies under the enclave key (one at a thread entry's seq must name
 * that entry's hash). Entries of other wallets may be absent (a one-wallet export): the thread is then verified by
 * its walletPrev links alone, and authenticated by the enclave only as far as `signedThrough`. When the input is the
 * whole log from seq 0, it is first verified as such (verifyAuditLog: global chain, checkpoints, every thread).
 * What a one-wallet export cannot show: entries cut from the thread's end (compare the last walletSeq with a
 * receipt's or with the whole log) and, beyond `signedThrough`, that the enclave wrote the entries at all.
 */
export function verifyWalletThread(params: VerifyWalletThreadParameters): VerifyWalletThreadReturnType {
  const key = toEd25519PublicKey(params.publicKey)
  const wallet = params.wallet.toLowerCase()
  const { entries } = params
  const complete = entries.length > 0 && entries.every((e, i) => (e as { seq?: unknown } | undefined)?.seq === i)
  let signedSeq = -1
  if (complete) {
    const whole = verifyAuditLog({ entries, hashes: params.hashes, checkpoints: params.checkpoints, publicKey: key })
    if (!whole.ok) return whole
    signedSeq = whole.signedHead?.seq ?? -1
  }
  const thread: WalletThreadEntry[] = []
  const bySeq = new Map<number, WalletThreadEntry>()
  /** Every entry of the wallet (threaded or not) by seq: its hash and walletSeq, for the receipts. */
  const mine = new Map<number, { hash: string; walletSeq: number | undefined }>()
  let unthreaded = 0
  let lastSeq = -1
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i] as AuditEntry
    if (!AuditEntrySchema.safeParse(e).success) return fail(AUDIT_CODES.malformed, (e as { seq?: number } | undefined)?.seq ?? -1, `entry at position ${i} is malformed`)
    if (e.wallet?.toLowerCase() !== wallet) continue
    let hash: string
    try {
      hash = hashCanonicalAuditEntry(e.prevHash, canonicalJson(e))
    } catch {
      return fail(AUDIT_CODES.malformed, e.seq, `seq ${e.seq} cannot be canonicalized`)
    }
    const recorded = params.hashes?.[i]
    if (recorded !== undefined && recorded.toLowerCase() !== hash) return fail(AUDIT_CODES.entryModified, e.seq, `seq ${e.seq}: content hashes to ${hash}, recorded hash is ${recorded}`)
    mine.set(e.seq, { hash, walletSeq: e.walletSeq })
    if (e.walletSeq === undefined && e.walletPrev === undefined) {
      if (thread.length > 0) return fail(AUDIT_CODES.threadBroken, e.seq, `seq ${e.seq}: an entry of ${params.wallet} without walletSeq/walletPrev after its thread began`)
      if (e.seq <= lastSeq) return fail(AUDIT_CODES.outOfOrder, e.seq, `seq ${e.seq} comes after seq ${lastSeq}`)
      lastSeq = e.seq
      unthreaded++
      continue
    }
    if (e.walletSeq === undefined || e.walletPrev === undefined) return fail(AUDIT_CODES.threadBroken, e.seq, `seq ${e.seq}: half a wallet thread (walletSeq and walletPrev go together)`)
    const last = thread[thread.length - 1]
    const why = threadBreak(last && { walletSeq: last.walletSeq, hash: last.hash }, e.walletSeq, e.walletPrev, false)
    if (why !== undefined) return fail(AUDIT_CODES.threadBroken, e.seq, `seq ${e.seq}: ${why}`)
    if (e.seq <= lastSeq) return fail(AUDIT_CODES.threadBroken, e.seq, `seq ${e.seq}: the thread goes back (after seq ${lastSeq})`)
    lastSeq = e.seq
    const t = { seq: e.seq, walletSeq: e.walletSeq, hash, event: e.event, time: e.time }
    thread.push(t)
    bySeq.set(e.seq, t)
  }
  let signedThrough: WalletThreadEntry | null = null
  for (const t of thread) if (t.seq <= signedSeq) signedThrough = t
  for (const cp of params.checkpoints ?? []) {
    if (!AuditCheckpointSchema.safeParse(cp).success) return fail(AUDIT_CODES.malformed, (cp as { seq?: number }).seq ?? -1, 'a checkpoint is malformed')
    if (!verifyAuditCheckpoint(cp, key)) return fail(AUDIT_CODES.checkpointInvalid, cp.seq, `checkpoint for seq ${cp.seq}: signature does not verify under the enclave key`)
    // Any entry of the wallet at its seq, threaded or not (rt30a: else stripping the thread fields hid the mismatch).
    const m = mine.get(cp.seq)
    if (m !== undefined && m.hash !== cp.head) return fail(AUDIT_CODES.checkpointMismatch, cp.seq, `signed head at seq ${cp.seq} is ${cp.head}, the entry hashes to ${m.hash}`)
    const t = bySeq.get(cp.seq)
    if (t === undefined) continue
    if (signedThrough === null || t.walletSeq > signedThrough.walletSeq) signedThrough = t
  }
  for (const r of params.receipts ?? []) {
    const parsed = AuditReceiptSchema.safeParse(r)
    if (!parsed.success) return fail(AUDIT_CODES.receiptMalformed, -1, 'a receipt does not match the schema')
    const { seq, walletSeq, entryHash, checkpoint } = parsed.data
    if (!verifyAuditCheckpoint(checkpoint, key)) return fail(AUDIT_CODES.receiptCheckpointInvalid, seq, `receipt for seq ${seq}: its checkpoint does not verify under the enclave key`)
    if (checkpoint.seq < seq) return fail(AUDIT_CODES.receiptNotCovered, seq, `receipt for seq ${seq}: its checkpoint at seq ${checkpoint.seq} does not cover it`)
    if (checkpoint.seq === seq && checkpoint.head !== entryHash.toLowerCase()) return fail(AUDIT_CODES.receiptCheckpointInvalid, seq, `receipt for seq ${seq}: its checkpoint head is not its entry hash`)
    const m = mine.get(seq)
    if (!m) return fail(AUDIT_CODES.receiptEntryMissing, seq, `a receipt names seq ${seq}, which this export of ${params.wallet} lacks: entries were cut or removed (or the receipt is another wallet's)`)
    if (m.hash !== entryHash.toLowerCase() || (walletSeq !== undefined && walletSeq !== m.walletSeq))
      return fail(AUDIT_CODES.receiptEntryMismatch, seq, `seq ${seq} hashes to ${m.hash} with walletSeq ${m.walletSeq ?? '(none)'}; the receipt says ${entryHash}, walletSeq ${walletSeq ?? '(none)'}`)
    // Its checkpoint at its own seq signs that entry, and through walletPrev the thread before it.
    const t = bySeq.get(seq)
    if (t && checkpoint.seq === seq && (signedThrough === null || t.walletSeq > signedThrough.walletSeq)) signedThrough = t
  }
  const seen = params.sinceHead
  if (seen !== undefined) {
    const at = thread[seen.walletSeq - 1]
    const end = thread[thread.length - 1]
    if (at === undefined) return fail(AUDIT_CODES.rollback, end?.seq ?? -1, `the thread ends at walletSeq ${end?.walletSeq ?? 0}, before the walletSeq ${seen.walletSeq} seen before`)
    if (at.hash !== seen.hash.toLowerCase()) return fail(AUDIT_CODES.rollback, at.seq, `walletSeq ${seen.walletSeq} hashes to ${at.hash}, the head seen before was ${seen.hash}`)
  }
  return { ok: true, wallet: params.wallet, complete, thread, unthreaded, signedThrough }
}

function fail(code: AuditCode, seq: number, message: string): VerifyWalletThreadReturnType {
  return { ok: false, code, seq, message }
}
