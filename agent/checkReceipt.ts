import type { KeyObject } from 'node:crypto'
import { AuditEntrySchema } from '../shared/audit/auditEntry.js'
import { hashAuditEntry } from '../shared/audit/hashAuditEntry.js'
import { verifyAuditCheckpoint } from '../shared/audit/verifyAuditCheckpoint.js'
import { AuditReceiptSchema, verifyReceipt } from '../shared/audit/verifyReceipt.js'
import { BaseError } from '../shared/errors/base.js'
import type { ReceiptMark, ReceiptMarks } from './ReceiptMarks.js'

/** What one verified receipt established. */
export type CheckedReceipt = {
  seq: number
  walletSeq: number | undefined
  entryHash: string
  /**
   * true: the enclave's checkpoint signs this entry itself (checkpoint.seq == seq: verifyReceipt passed on the entry
   * alone). false: the checkpoint is at a later seq (a turn shared with other requests); its signature and coverage
   * verified, but the link from this entry to it runs through other wallets' entries the agent is not given.
   */
  signed: boolean
}

export type CheckReceiptParameters = {
  /** The host's 2xx answer body (signature, signedHash, receipt, auditEntry). */
  body: Record<string, unknown>
  /** The trusted enclave receipt key (Ed25519) and its hex form (the marks' slot). */
  key: KeyObject
  keyHex: string
  /** What this SDK asked: request id (nonce), wallet, agent, and the digest it computed itself. */
  requestId: string
  wallet: string
  agentId: string
  digest: string
  marks: ReceiptMarks
  /** The wallet's marks when this request was sent (a receipt must lie above them). */
  before: ReceiptMark | undefined
}

/** A receipt that does not verify: the signature beside it is not handed out. */
export class ReceiptInvalidError extends BaseError {
  override name = 'ReceiptInvalidError'
  constructor(why: string) {
    super('receipt_invalid', `bursar host returned a signature whose audit receipt does not verify: ${why}`, {
      metaMessages: [
        'The signature was NOT returned to you: the host rewrote or forged the receipt, or it is not the enclave you trust.',
        'Check the receipt key you configured (key file receiptPublicKey / attestation root); prefer another host.',
      ],
    })
  }
}

/** A verified receipt at or below a mark already held: the enclave runs an older state (rollback) or a second copy (fork). */
export class StateRollbackError extends BaseError {
  override name = 'StateRollbackError'
  readonly receipt: { seq: number; walletSeq: number | undefined; entryHash: string }
  readonly mark: ReceiptMark
  constructor(wallet: string, why: string, receipt: StateRollbackError['receipt'], mark: ReceiptMark) {
    super('state_rollback_detected', `The enclave signing for wallet ${wallet} runs from an older state or a fork: ${why}`, {
      metaMessages: [
        `Your newest receipt for this wallet: audit seq ${mark.seq}, walletSeq ${mark.walletSeq}, entry ${mark.entryHash}.`,
        'The signature was NOT returned to you. Spends and owner acts after that state may be forgotten there (budget counted twice, a revoke undone).',
        'Stop paying through this host and tell the wallet owner: keep this error and your receipts (evidence), and check with `bursar audit verify --since-head SEQ:HASH` / `--wallet ADDR --since-wallet-head WALLETSEQ:HASH`.',
      ],
    })
    this.receipt = receipt
    this.mark = mark
  }
}

/**
 * SECURITY (issue 15, sdk15): checks the audit receipt that came with a signature, before the signature is handed
 * out. (1) The receipt's entry is this request's: the host-served `auditEntry` hashes to `receipt.entryHash` and is the
 * enclave's `sign_allowed` of this request id, wallet, agent and digest. (2) The enclave's checkpoint verifies under
 * the trusted receipt key and covers the entry — verifyReceipt on the entry alone; when the checkpoint sits at a later
 * seq (shared turn), the signature and coverage are checked and the receipt is reported as `signed: false`. (3) The
 * receipt lies above the wallet's marks as they were when this request was sent (seq and walletSeq strictly higher),
 * and the next entry of the wallet's thread links to the marked one (walletPrev). Then the marks are raised.
 */
export function checkReceipt(p: CheckReceiptParameters): CheckedReceipt {
  const parsed = AuditReceiptSchema.safeParse(p.body.receipt)
  if (!parsed.success) throw new ReceiptInvalidError('the answer carries no well-formed receipt')
  const receipt = parsed.data
  const entryParsed = AuditEntrySchema.safeParse(p.body.auditEntry)
  if (!entryParsed.success) throw new ReceiptInvalidError('the answer carries no well-formed audit entry for the receipt')
  const entry = entryParsed.data
  if (hashAuditEntry(entry) !== receipt.entryHash) throw new ReceiptInvalidError(`the audit entry does not hash to the receipt's entryHash`)
  if (entry.seq !== receipt.seq || entry.walletSeq !== receipt.walletSeq) throw new ReceiptInvalidError('the audit entry sits at another seq or walletSeq than the receipt')
  if (entry.event !== 'sign_allowed' || entry.verdict !== 'allow') throw new ReceiptInvalidError(`the receipt's entry is a ${entry.event}, not a signature`)
  if (entry.requestId !== p.requestId) throw new ReceiptInvalidError(`the receipt is for request ${entry.requestId}, not ${p.requestId}`)
  if (entry.wallet?.toLowerCase() !== p.wallet.toLowerCase() || entry.agentId !== p.agentId)
    throw new ReceiptInvalidError('the receipt is for another wallet or agent')
  if (entry.signedHash?.toLowerCase() !== p.digest.toLowerCase() || String(p.body.signedHash).toLowerCase() !== p.digest.toLowerCase())
    throw new ReceiptInvalidError('the receipt records another digest than the one this SDK asked to sign')

  const verdict = verifyReceipt({ receipt, entries: [entry], publicKey: p.key })
  let signed = verdict.ok
  if (!verdict.ok) {
    // A checkpoint at a later seq: verifyReceipt needs the entries after this one (other wallets') to link it. Check
    // what does not need them ourselves, whatever order verifyReceipt checks in.
    const { checkpoint } = receipt
    const unlinked = verdict.code === 'receipt_chain_broken' && checkpoint.seq > receipt.seq && verifyAuditCheckpoint(checkpoint, p.key)
    if (!unlinked) throw new ReceiptInvalidError(`${verdict.code}: ${verdict.message}`)
    signed = false
  }

  const got = { seq: receipt.seq, walletSeq: receipt.walletSeq, entryHash: receipt.entryHash }
  const m = p.before
  if (m) {
    if (receipt.seq <= m.seq || (receipt.walletSeq !== undefined && receipt.walletSeq <= m.walletSeq))
      throw new StateRollbackError(
        p.wallet,
        `this receipt is at audit seq ${receipt.seq}, walletSeq ${receipt.walletSeq ?? '(none)'}, not above the marks you held when you sent the request (seq ${m.seq}, walletSeq ${m.walletSeq})`,
        got,
        m,
      )
  }
  // The thread is absolute, whenever the request was sent: the entry right after the newest one held must link to it,
  // and one at the same walletSeq must be it (a resend's answer is the same receipt).
  const now = p.marks.get(p.keyHex, p.wallet)
  if (now && receipt.walletSeq !== undefined) {
    if (receipt.walletSeq === now.walletSeq + 1 && entry.walletPrev !== now.entryHash)
      throw new StateRollbackError(p.wallet, `the wallet's entry ${receipt.walletSeq} does not continue entry ${now.walletSeq} you hold (walletPrev ${entry.walletPrev})`, got, now)
    if (receipt.walletSeq === now.walletSeq && receipt.entryHash !== now.entryHash)
      throw new StateRollbackError(p.wallet, `two different entries at walletSeq ${now.walletSeq} (${now.entryHash}, now ${receipt.entryHash})`, got, now)
  }
  p.marks.record(p.keyHex, p.wallet, { seq: receipt.seq, walletSeq: receipt.walletSeq ?? 0, entryHash: receipt.entryHash })
  return { ...got, signed }
}
