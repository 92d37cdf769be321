import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { z } from 'zod'
import { BaseError } from '../shared/errors/base.js'

/** How often a marks file is rewritten at most (ms). */
const SAVE_EVERY_MS = 100

/**
 * The newest receipt seen for one wallet under one enclave receipt key: its place in its chain and in the thread.
 * `chain` (issue 15 step 4): the chain `seq` is in (absent: the root chain, and every mark written before chains).
 */
export type ReceiptMark = { seq: number; walletSeq: number; entryHash: string; chain?: string }
/** The marks a request is sent under: its wallet's, and the highest seq seen per (receipt key, chain) (`key|chain` → seq). */
export type ReceiptMarksBefore = { wallet: ReceiptMark | undefined; chains: Readonly<Record<string, number>> }

const MarkSchema = z.strictObject({ seq: z.number().int().min(-1), walletSeq: z.number().int().min(0), entryHash: z.string(), chain: z.string().regex(/^[0-9a-f]{32}$/).optional() })
// `chains` (issue 15 step 4) is absent from files written before it: they load, with no per-chain marks yet.
const FileSchema = z.strictObject({ v: z.literal(1), marks: z.record(z.string(), MarkSchema), chains: z.record(z.string(), z.number().int().min(-1)).optional() })

/**
 * An agent's high-water marks (issue 15, sdk15): per (enclave receipt key, wallet), the walletSeq of the newest verified
 * receipt, the entry hash at it and its audit seq in its chain; per (enclave receipt key, chain) the highest audit seq
 * of any verified receipt (issue 15 step 4: each pair's enclave writes its own chain, whose seqs are unrelated to
 * another's, so seqs compare only within a chain; the walletSeq marks follow a wallet across chains). SECURITY: a receipt for a request sent after a mark was
 * recorded must lie above it; one at or below it proves the enclave was run from an older state (a rollback) or that
 * a second enclave signs for the wallet (a fork). In memory by default (one set per process, shared by every account
 * of it); with `file`, loaded at start and rewritten atomically (temp file + rename) at most every 100 ms and at exit,
 * so the marks survive restarts. One file per agent process: two processes writing one file lose each other's newest marks.
 */
export class ReceiptMarks {
  private static readonly shared = new Map<string, ReceiptMarks>()
  private readonly marks = new Map<string, ReceiptMark>()
  /** `key|chain` → highest seq; replaced (not mutated) on change, so a request's snapshot is this reference. */
  private chains: Readonly<Record<string, number>> = {}

  /** The process-wide marks for `file` (null: memory only). */
  static for(file: string | null | undefined): ReceiptMarks {
    const key = file ? path.resolve(file) : ':memory:'
    let m = ReceiptMarks.shared.get(key)
    if (!m) ReceiptMarks.shared.set(key, (m = new ReceiptMarks(file ? key : null)))
    return m
  }

  constructor(readonly file: string | null) {
    if (!file) return
    let text: string
    try {
      text = readFileSync(file, 'utf8')
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return // no marks yet
      throw marksError(file, cause)
    }
    let parsed
    try {
      parsed = FileSchema.safeParse(JSON.parse(text))
    } catch (cause) {
      throw marksError(file, cause)
    }
    if (!parsed.success) throw marksError(file, parsed.error)
    for (const [k, v] of Object.entries(parsed.data.marks)) this.marks.set(k, v)
    this.chains = { ...parsed.data.chains }
  }

  get(receiptKey: string, wallet: string): ReceiptMark | undefined {
    return this.marks.get(slot(receiptKey, wallet))
  }

  /** The highest seq of a verified receipt in `chain` ('' = root) under this key. */
  chainSeq(receiptKey: string, chain: string): number | undefined {
    return this.chains[chainSlot(receiptKey, chain)]
  }

  /** The marks as they are now, for a request about to be sent (no copy: the chain marks are copy-on-write). */
  before(receiptKey: string, wallet: string): ReceiptMarksBefore {
    return { wallet: this.marks.get(slot(receiptKey, wallet)), chains: this.chains }
  }

  /** Raises the marks to this receipt's (never lowers them: answers to concurrent requests arrive in any order). */
  record(receiptKey: string, wallet: string, mark: ReceiptMark): void {
    const chain = mark.chain ?? ''
    const c = chainSlot(receiptKey, chain)
    let changed = false
    if ((this.chains[c] ?? -1) < mark.seq) {
      this.chains = { ...this.chains, [c]: mark.seq }
      changed = true
    }
    const k = slot(receiptKey, wallet)
    const prev = this.marks.get(k)
    const { chain: _c, ...plain } = mark
    const next: ReceiptMark = chain === '' ? plain : { ...plain, chain }
    // The wallet's seq is kept for the chain of its newest walletSeq (another chain's seqs do not compare).
    if (prev === undefined || prev.walletSeq < mark.walletSeq) this.marks.set(k, next), (changed = true)
    else if (prev.walletSeq === mark.walletSeq && (prev.chain ?? '') === chain && prev.seq < mark.seq) this.marks.set(k, { ...prev, seq: mark.seq }), (changed = true)
    if (changed && this.file) this.scheduleSave(this.file)
  }

  private timer: NodeJS.Timeout | undefined
  /**
   * Coalesced: at most one rewrite per SAVE_EVERY_MS (and one at exit), so the file costs a write per interval, not
   * per payment (measured: a synchronous rewrite per receipt cost ×2.5 the agent's CPU per payment). A crash loses at
   * most that interval's newest marks: the detection falls back to the marks before it.
   */
  private scheduleSave(file: string): void {
    if (this.timer) return
    if (!this.exitHook) {
      this.exitHook = () => this.flush()
      process.once('exit', this.exitHook)
    }
    this.timer = setTimeout(() => this.flush(), SAVE_EVERY_MS)
    this.timer.unref()
    void file
  }
  private exitHook: (() => void) | undefined

  /** Writes pending marks now (tests, shutdown). */
  flush(): void {
    if (this.timer) clearTimeout(this.timer)
    this.timer = undefined
    if (this.file) this.save(this.file)
  }

  private save(file: string): void {
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 })
    const tmp = `${file}.${process.pid}.tmp`
    writeFileSync(tmp, `${JSON.stringify({ v: 1, marks: Object.fromEntries(this.marks), chains: this.chains })}\n`, { mode: 0o600 })
    renameSync(tmp, file)
  }
}

function slot(receiptKey: string, wallet: string): string {
  return `${receiptKey.toLowerCase()}|${wallet.toLowerCase()}`
}

/** `key|chain` ('' = the root chain: `key|`). */
function chainSlot(receiptKey: string, chain: string): string {
  return `${receiptKey.toLowerCase()}|${chain}`
}

function marksError(file: string, cause: unknown): BaseError {
  return new BaseError('receipt_marks_invalid', `${file} is not a bursar receipt-marks file`, {
    cause,
    metaMessages: ['Restore it from a backup; deleting it drops the rollback detection these marks give (they start over).'],
  })
}
