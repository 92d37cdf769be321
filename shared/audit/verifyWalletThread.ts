import { canonicalJson } from '../canonical/canonicalJson.js'
import { type AuditCheckpoint, AuditCheckpointSchema } from './auditCheckpoint.js'
import { type AuditEntry, AuditEntrySchema } from './auditEntry.js'
import { AUDIT_CODES, type AuditCode } from './auditCodes.js'
import { hashCanonicalAuditEntry } from './hashAuditEntry.js'
import { type Ed25519PublicKeyInput, toEd25519PublicKey } from './toEd25519PublicKey.js'
import { verifyAuditCheckpoint } from './verifyAuditCheckpoint.js'
import { type AuditChainInput, verifyAuditLog } from './verifyAuditLog.js'
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
  /**
   * Issue 15 step 4: the export's other chains (parseAuditJsonl's `chains`; the fields above are the root chain's). The
   * thread is followed by walletSeq across them: one walletSeq in two chains is `audit_wallet_forked`.
   */
  chains?: readonly AuditChainInput[] | undefined
}

/** `chain`: the entry's chain when it is not the root (issue 15 step 4). */
export type WalletThreadEntry = { seq: number; walletSeq: number; hash: string; event: AuditEntry['event']; time: number; chain?: string }

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
  | { ok: false; code: AuditCode; seq: number; message: string; chain?: string }

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
  const multi = params.chains !== undefined && params.chains.length > 0
  const sections: AuditChainInput[] = [{ chain: '', entries: params.entries, hashes: params.hashes, checkpoints: params.checkpoints }, ...(params.chains ?? [])]
  const contiguous = (es: readonly AuditEntry[]) => es.every((e, i) => (e as { seq?: unknown } | undefined)?.seq === i)
  // The whole log: every chain from seq 0 without a gap (a one-wallet export never holds a chain's seq 0 but the root's).
  const complete = multi
    ? contiguous(params.entries) && (params.chains ?? []).every((c) => c.entries.length > 0 && contiguous(c.entries))
    : params.entries.length > 0 && contiguous(params.entries)
  /** Per chain: the highest seq a signed checkpoint of the whole log covers. */
  const signedSeq = new Map<string, number>()
  if (complete) {
    const whole = verifyAuditLog({ entries: params.entries, hashes: params.hashes, checkpoints: params.checkpoints, chains: params.chains, publicKey: key })
    if (!whole.ok) return whole
    signedSeq.set('', whole.signedHead?.seq ?? -1)
    for (const c of whole.chains ?? []) signedSeq.set(c.chain, c.signedHead?.seq ?? -1)
  }
  let thread: WalletThreadEntry[] = []
  /** Thread entries by chain and seq (`chain:seq`). */
  const bySeq = new Map<string, WalletThreadEntry>()
  /** Every entry of the wallet (threaded or not) by chain and seq: its hash and walletSeq, for the receipts. */
  const mine = new Map<string, { hash: string; walletSeq: number | undefined }>()
  let unthreaded = 0
  for (const { chain, entries, hashes } of sections) {
    const at = chain === '' ? {} : { chain }
    let lastSeq = -1
    let threadedHere = false
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i] as AuditEntry
      if (!AuditEntrySchema.safeParse(e).success) return fail(AUDIT_CODES.malformed, (e as { seq?: number } | undefined)?.seq ?? -1, `entry at position ${i} is malformed`, at)
      if (e.wallet?.toLowerCase() !== wallet) continue
      let hash: string
      try {
        hash = hashCanonicalAuditEntry(e.prevHash, canonicalJson(e))
      } catch {
        return fail(AUDIT_CODES.malformed, e.seq, `seq ${e.seq} cannot be canonicalized`, at)
      }
      const recorded = hashes?.[i]
      if (recorded !== undefined && recorded.toLowerCase() !== hash) return fail(AUDIT_CODES.entryModified, e.seq, `seq ${e.seq}: content hashes to ${hash}, recorded hash is ${recorded}`, at)
      mine.set(`${chain}:${e.seq}`, { hash, walletSeq: e.walletSeq })
      if (e.walletSeq === undefined && e.walletPrev === undefined) {
        // Entries from before threads: only in the root chain, before its first threaded entry of the wallet.
        if (threadedHere || chain !== '') return fail(AUDIT_CODES.threadBroken, e.seq, `seq ${e.seq}: an entry of ${params.wallet} without walletSeq/walletPrev after its thread began`, at)
        if (e.seq <= lastSeq) return fail(AUDIT_CODES.outOfOrder, e.seq, `seq ${e.seq} comes after seq ${lastSeq}`, at)
        lastSeq = e.seq
        unthreaded++
        continue
      }
      if (e.walletSeq === undefined || e.walletPrev === undefined) return fail(AUDIT_CODES.threadBroken, e.seq, `seq ${e.seq}: half a wallet thread (walletSeq and walletPrev go together)`, at)
      threadedHere = true
      if (!multi) {
        // One chain: in file order, as the enclave wrote it.
        const last = thread[thread.length - 1]
        const why = threadBreak(last && { walletSeq: last.walletSeq, hash: last.hash }, e.walletSeq, e.walletPrev, false)
        if (why !== undefined) return fail(AUDIT_CODES.threadBroken, e.seq, `seq ${e.seq}: ${why}`)
      }
      if (e.seq <= lastSeq) return fail(AUDIT_CODES.threadBroken, e.seq, `seq ${e.seq}: the thread goes back (after seq ${lastSeq})`, at)
      lastSeq = e.seq
      const t: WalletThreadEntry = { seq: e.seq, walletSeq: e.walletSeq, hash, event: e.event, time: e.time, ...at }
      prevOf.set(t, e.walletPrev)
      thread.push(t)
      bySeq.set(`${chain}:${e.seq}`, t)
    }
  }
  /**
   * rt32a (strangerFramesForkWithUnsignedChain): a thread entry the enclave signed — a verified checkpoint of its chain
   * at or after it names a thread entry of that chain (a fork needs both copies signed: anyone can write an unsigned one).
   */
  const signedAt = (x: WalletThreadEntry) => {
    const chain = x.chain ?? ''
    const cps = sections.find((c) => c.chain === chain)?.checkpoints ?? []
    return cps.some((cp) => cp.seq >= x.seq && bySeq.get(`${chain}:${cp.seq}`)?.hash === cp.head && AuditCheckpointSchema.safeParse(cp).success && verifyAuditCheckpoint(cp.chain === undefined && chain !== '' ? { ...cp, chain } : cp, key))
  }
  if (multi) {
    // Several chains (issue 15 step 4): the thread in walletSeq order, whichever chain each entry is in. Within a chain
    // walletSeq only grows with seq (checked above); one walletSeq in two chains is a fork.
    thread = [...thread].sort((x, y) => x.walletSeq - y.walletSeq)
    for (let i = 0; i < thread.length; i++) {
      const t = thread[i] as WalletThreadEntry
      const last = thread[i - 1]
      const at = t.chain === undefined ? {} : { chain: t.chain }
      const unsigned = last !== undefined && last.walletSeq === t.walletSeq && last.chain !== t.chain && [last, t].find((x) => !signedAt(x))
      if (unsigned)
        return fail(AUDIT_CODES.threadBroken, t.seq, `seq ${t.seq} of ${chainName(t.chain)}: wallet ${params.wallet}: walletSeq ${t.walletSeq} is in ${chainName(last!.chain)} and in ${chainName(t.chain)}, but the one in ${chainName(unsigned.chain)} (seq ${unsigned.seq}) is not signed (no signed checkpoint of its chain names it or a later thread entry there): not evidence of a fork, a broken export`, at)
      if (last !== undefined && last.walletSeq === t.walletSeq && last.chain !== t.chain)
        return fail(AUDIT_CODES.walletForked, t.seq, `wallet ${params.wallet} forked: walletSeq ${t.walletSeq} is in ${chainName(last.chain)} (seq ${last.seq}) and in ${chainName(t.chain)} (seq ${t.seq}): two enclaves signed for the wallet from one state`, at)
      const why = threadBreak(last && { walletSeq: last.walletSeq, hash: last.hash }, t.walletSeq, prevOf.get(t) as string, false)
      if (why !== undefined) return fail(AUDIT_CODES.threadBroken, t.seq, `seq ${t.seq} of ${chainName(t.chain)}: ${why}`, at)
    }
  }
  let signedThrough: WalletThreadEntry | null = null
  for (const t of thread) if (t.seq <= (signedSeq.get(t.chain ?? '') ?? -1)) signedThrough = t
  for (const { chain, checkpoints } of sections) {
    const at = chain === '' ? {} : { chain }
    for (const cp of checkpoints ?? []) {
      if (!AuditCheckpointSchema.safeParse(cp).success) return fail(AUDIT_CODES.malformed, (cp as { seq?: number }).seq ?? -1, 'a checkpoint is malformed', at)
      // A checkpoint line without `chain` is its section's (the header names it); one with `chain` must name it.
      if (!verifyAuditCheckpoint(cp.chain === undefined && chain !== '' ? { ...cp, chain } : cp, key)) return fail(AUDIT_CODES.checkpointInvalid, cp.seq, `checkpoint for seq ${cp.seq}: signature does not verify under the enclave key`, at)
      if (cp.chain !== undefined && cp.chain !== chain) return fail(AUDIT_CODES.chainMismatch, cp.seq, `checkpoint for seq ${cp.seq} is ${chainName(cp.chain)}'s, presented for ${chainName(chain)}`, at)
      // Any entry of the wallet at its seq, threaded or not (rt30a: else stripping the thread fields hid the mismatch).
      const m = mine.get(`${chain}:${cp.seq}`)
      if (m !== undefined && m.hash !== cp.head) return fail(AUDIT_CODES.checkpointMismatch, cp.seq, `signed head at seq ${cp.seq} is ${cp.head}, the entry hashes to ${m.hash}`, at)
      const t = bySeq.get(`${chain}:${cp.seq}`)
      if (t === undefined) continue
      if (signedThrough === null || t.walletSeq > signedThrough.walletSeq) signedThrough = t
    }
  }
  for (const r of params.receipts ?? []) {
    const parsed = AuditReceiptSchema.safeParse(r)
    if (!parsed.success) return fail(AUDIT_CODES.receiptMalformed, -1, 'a receipt does not match the schema')
    const { seq, walletSeq, entryHash, checkpoint } = parsed.data
    // The receipt's chain is its checkpoint's (signed with it; issue 15 step 4).
    const chain = checkpoint.chain ?? ''
    const at = chain === '' ? {} : { chain }
    if (!verifyAuditCheckpoint(checkpoint, key)) return fail(AUDIT_CODES.receiptCheckpointInvalid, seq, `receipt for seq ${seq}: its checkpoint does not verify under the enclave key`, at)
    if (checkpoint.seq < seq) return fail(AUDIT_CODES.receiptNotCovered, seq, `receipt for seq ${seq}: its checkpoint at seq ${checkpoint.seq} does not cover it`, at)
    if (checkpoint.seq === seq && checkpoint.head !== entryHash.toLowerCase()) return fail(AUDIT_CODES.receiptCheckpointInvalid, seq, `receipt for seq ${seq}: its checkpoint head is not its entry hash`, at)
    const m = mine.get(`${chain}:${seq}`)
    if (!m) return fail(AUDIT_CODES.receiptEntryMissing, seq, `a receipt names seq ${seq}${chain === '' ? '' : ` of chain ${chain}`}, which this export of ${params.wallet} lacks: entries were cut or removed (or the receipt is another wallet's)`, at)
    if (m.hash !== entryHash.toLowerCase() || (walletSeq !== undefined && walletSeq !== m.walletSeq))
      return fail(AUDIT_CODES.receiptEntryMismatch, seq, `seq ${seq} hashes to ${m.hash} with walletSeq ${m.walletSeq ?? '(none)'}; the receipt says ${entryHash}, walletSeq ${walletSeq ?? '(none)'}`, at)
    // Its checkpoint at its own seq signs that entry, and through walletPrev the thread before it.
    const t = bySeq.get(`${chain}:${seq}`)
    if (t && checkpoint.seq === seq && (signedThrough === null || t.walletSeq > signedThrough.walletSeq)) signedThrough = t
  }
  const seen = params.sinceHead
  if (seen !== undefined) {
    const at = thread[seen.walletSeq - 1]
    const end = thread[thread.length - 1]
    if (at === undefined) return fail(AUDIT_CODES.rollback, end?.seq ?? -1, `the thread ends at walletSeq ${end?.walletSeq ?? 0}, before the walletSeq ${seen.walletSeq} seen before`, end?.chain === undefined ? {} : { chain: end.chain })
    if (at.hash !== seen.hash.toLowerCase()) return fail(AUDIT_CODES.rollback, at.seq, `walletSeq ${seen.walletSeq} hashes to ${at.hash}, the head seen before was ${seen.hash}`, at.chain === undefined ? {} : { chain: at.chain })
  }
  return { ok: true, wallet: params.wallet, complete, thread, unthreaded, signedThrough }
}

const chainName = (chain: string | undefined) => (chain === undefined || chain === '' ? 'the root chain' : `chain ${chain}`)
/** Each thread entry's walletPrev (checked when the thread is put in walletSeq order). */
const prevOf = new WeakMap<WalletThreadEntry, string>()

function fail(code: AuditCode, seq: number, message: string, at: { chain?: string } = {}): VerifyWalletThreadReturnType {
  return { ok: false, code, seq, message, ...at }
}
