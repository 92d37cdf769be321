import type { KeyObject } from 'node:crypto'
import type { AuditCheckpoint, AuditEntry } from '../shared/audit/auditEntry.js'
import { hashCanonicalAuditEntry } from '../shared/audit/hashAuditEntry.js'
import { CHECKPOINT_SIGNATURE_REGEX } from '../shared/audit/checkpointSignatureRegex.js'
import { verifyAuditCheckpoint } from '../shared/audit/verifyAuditCheckpoint.js'
import type { AuditReceipt } from '../shared/audit/verifyReceipt.js'
import { canonicalJson } from '../shared/canonical/canonicalJson.js'
import { BaseError } from '../shared/errors/base.js'
import type { ReceiptMark, ReceiptMarks, ReceiptMarksBefore } from './ReceiptMarks.js'

/** What one verified receipt established. */
export type CheckedReceipt = {
  seq: number
  /** The chain the receipt's checkpoint signs (issue 15 step 4; '' = the root chain). */
  chain: string
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
  /** The marks when this request was sent (ReceiptMarks.before): its receipt must lie above them. */
  before: ReceiptMarksBefore | undefined
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
  readonly receipt: { seq: number; walletSeq: number | undefined; entryHash: string; chain: string }
  readonly mark: ReceiptMark
  constructor(wallet: string, why: string, receipt: StateRollbackError['receipt'], mark: ReceiptMark) {
    super('state_rollback_detected', `The enclave signing for wallet ${wallet} runs from an older state or a fork: ${why}`, {
      metaMessages: [
        `Your newest receipt for this wallet: audit seq ${mark.seq}${mark.chain ? ` of chain ${mark.chain}` : ''}, walletSeq ${mark.walletSeq}, entry ${mark.entryHash}.`,
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
 * the trusted receipt key and covers the entry — verifyReceipt's rules on the entry alone; when the checkpoint sits at a later
 * seq (shared turn), the signature and coverage are checked and the receipt is reported as `signed: false`. (3) The
 * receipt lies above the wallet's marks as they were when this request was sent (seq and walletSeq strictly higher),
 * and the next entry of the wallet's thread links to the marked one (walletPrev). Then the marks are raised.
 */
export function checkReceipt(p: CheckReceiptParameters): CheckedReceipt {
  // Shapes are checked by hand (no schema parse on the hot path): the hash binds every other field of the entry.
  const receipt = p.body.receipt as Partial<AuditReceipt> | null | undefined
  const cp = receipt?.checkpoint as Partial<AuditCheckpoint> | undefined
  if (
    !receipt || typeof receipt !== 'object' || !isUint(receipt.seq) || typeof receipt.entryHash !== 'string' || !HASH.test(receipt.entryHash) ||
    (receipt.walletSeq !== undefined && !isUint(receipt.walletSeq)) || !cp || typeof cp !== 'object' || !isUint(cp.seq) || !isUint(cp.time) ||
    typeof cp.head !== 'string' || !HASH.test(cp.head) || typeof cp.signature !== 'string' || !SIG.test(cp.signature) ||
    (cp.chain !== undefined && (typeof cp.chain !== 'string' || !CHAIN.test(cp.chain))) ||
    // rt33a: no other key (the auditor's AuditCheckpointSchema is strict: a receipt kept with one is malformed there).
    Object.keys(cp).some((k) => !CHECKPOINT_KEYS.has(k))
  )
    throw new ReceiptInvalidError('the answer carries no well-formed receipt')
  const entry = p.body.auditEntry as Partial<AuditEntry> | null | undefined
  if (!entry || typeof entry !== 'object' || Array.isArray(entry) || typeof entry.prevHash !== 'string' || !HASH.test(entry.prevHash))
    throw new ReceiptInvalidError('the answer carries no well-formed audit entry for the receipt')
  const seq = receipt.seq
  const entryHash = receipt.entryHash
  // verifyReceipt's contract on the one entry the agent is given (shared/audit/verifyReceipt.ts): the entry at the
  // receipt's seq hashes to its entryHash (and carries its walletSeq); the checkpoint verifies under the enclave key and
  // covers the seq; at the same seq its head is the entry hash. Linking a later checkpoint needs the entries between.
  let hash: string
  try {
    hash = hashCanonicalAuditEntry(entry.prevHash, canonicalJson(entry))
  } catch {
    throw new ReceiptInvalidError('the audit entry cannot be canonicalized')
  }
  if (hash !== entryHash) throw new ReceiptInvalidError(`the audit entry does not hash to the receipt's entryHash`)
  if (entry.seq !== seq || entry.walletSeq !== receipt.walletSeq) throw new ReceiptInvalidError('the audit entry sits at another seq or walletSeq than the receipt')
  if (entry.event !== 'sign_allowed' || entry.verdict !== 'allow') throw new ReceiptInvalidError(`the receipt's entry is a ${String(entry.event)}, not a signature`)
  if (entry.requestId !== p.requestId) throw new ReceiptInvalidError(`the receipt is for request ${String(entry.requestId)}, not ${p.requestId}`)
  if (typeof entry.wallet !== 'string' || entry.wallet.toLowerCase() !== p.wallet.toLowerCase() || entry.agentId !== p.agentId)
    throw new ReceiptInvalidError('the receipt is for another wallet or agent')
  const digest = p.digest.toLowerCase()
  if (typeof entry.signedHash !== 'string' || entry.signedHash.toLowerCase() !== digest || String(p.body.signedHash).toLowerCase() !== digest)
    throw new ReceiptInvalidError('the receipt records another digest than the one this SDK asked to sign')
  // rt31b: since turn15 every answer's checkpoint signs its own entry. One at a later seq covers nothing the agent
  // can link this entry to (the entry would be bound by its hash only: a host could invent it), so it is refused.
  if (cp.seq !== seq) throw new ReceiptInvalidError(`receipt_not_covered: the checkpoint at seq ${cp.seq} does not sign the entry at seq ${seq}`)
  if (cp.head !== entryHash) throw new ReceiptInvalidError(`receipt_checkpoint_invalid: the checkpoint's head is not the receipt's entry`)
  if (!verifyAuditCheckpoint(cp as AuditCheckpoint, p.key)) throw new ReceiptInvalidError('receipt_checkpoint_invalid: the checkpoint signature does not verify under the trusted enclave receipt key')
  const signed = cp.seq === seq
  // Issue 15 step 4: the chain is the checkpoint's (inside its signature); seqs compare only within one chain.
  const chain = cp.chain ?? ''

  const got = { seq, walletSeq: receipt.walletSeq, entryHash, chain }
  const m = p.before?.wallet
  const inChain = p.before?.chains[`${p.keyHex.toLowerCase()}|${chain}`]
  const where = chain === '' ? '' : ` of chain ${chain}`
  if (m && ((receipt.walletSeq !== undefined && receipt.walletSeq <= m.walletSeq) || ((m.chain ?? '') === chain && receipt.seq <= m.seq)))
    throw new StateRollbackError(
      p.wallet,
      `this receipt is at audit seq ${receipt.seq}${where}, walletSeq ${receipt.walletSeq ?? '(none)'}, not above the marks you held when you sent the request (seq ${m.seq}${m.chain ? ` of chain ${m.chain}` : ''}, walletSeq ${m.walletSeq})`,
      got,
      m,
    )
  if (inChain !== undefined && receipt.seq <= inChain)
    throw new StateRollbackError(
      p.wallet,
      `this receipt is at audit seq ${receipt.seq}${where}, not above seq ${inChain} of that chain, which you held when you sent the request (a receipt of this or another wallet)`,
      got,
      { seq: inChain, walletSeq: m?.walletSeq ?? 0, entryHash: m?.entryHash ?? '', ...(chain === '' ? {} : { chain }) },
    )
  // The thread is absolute, whenever the request was sent: the entry right after the newest one held must link to it,
  // and one at the same walletSeq must be it (a resend's answer is the same receipt).
  const now = p.marks.get(p.keyHex, p.wallet)
  if (now && receipt.walletSeq !== undefined) {
    if (receipt.walletSeq === now.walletSeq + 1 && entry.walletPrev !== now.entryHash)
      throw new StateRollbackError(p.wallet, `the wallet's entry ${receipt.walletSeq} does not continue entry ${now.walletSeq} you hold (walletPrev ${entry.walletPrev})`, got, now)
    if (receipt.walletSeq === now.walletSeq && receipt.entryHash !== now.entryHash)
      throw new StateRollbackError(p.wallet, `two different entries at walletSeq ${now.walletSeq} (${now.entryHash}, now ${receipt.entryHash})`, got, now)
  }
  p.marks.record(p.keyHex, p.wallet, { seq: receipt.seq, walletSeq: receipt.walletSeq ?? 0, entryHash: receipt.entryHash, ...(chain === '' ? {} : { chain }) })
  return { ...got, signed }
}

const HASH = /^0x[0-9a-f]{64}$/
/** A checkpoint's signature field (AuditCheckpointSchema's): turn18's turn checkpoints add their leaf index and path. */
// rt33a: the auditor's spelling (lower case only; upper-case signature hex passed here and failed verifyReceipt's schema).
const SIG = CHECKPOINT_SIGNATURE_REGEX
const CHECKPOINT_KEYS = new Set(['seq', 'head', 'time', 'chain', 'signature'])
const CHAIN = /^[0-9a-f]{32}$/
const isUint = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0
