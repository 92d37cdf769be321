import * as z from 'zod'
import { canonicalJson } from '../canonical/canonicalJson.js'
import { AuditCheckpointSchema } from './auditCheckpoint.js'
import { type AuditEntry, AuditEntrySchema, HASH_HEX_REGEX } from './auditEntry.js'
import { AUDIT_CODES, type AuditCode } from './auditCodes.js'
import { hashCanonicalAuditEntry } from './hashAuditEntry.js'
import { type Ed25519PublicKeyInput, toEd25519PublicKey } from './toEd25519PublicKey.js'
import { verifyAuditCheckpoint } from './verifyAuditCheckpoint.js'

const uint = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER)

/** Returned to an agent with each signature: its entry's hash and a checkpoint covering it. */
export const AuditReceiptSchema = z
  .object({
    seq: uint,
    /** The entry's place in its wallet's thread (issue 15 step 2; absent from older receipts): checked when present. */
    walletSeq: uint.optional(),
    entryHash: z.string().regex(HASH_HEX_REGEX),
    checkpoint: AuditCheckpointSchema,
    /** The enclave's state version after the decision, as the enclave returns it (informational: not covered by the checkpoint). */
    stateVersion: uint.optional(),
  })
  .strict()
export type AuditReceipt = z.infer<typeof AuditReceiptSchema>

export type VerifyReceiptParameters = {
  receipt: AuditReceipt
  /** Entries of a log export (any contiguous range containing receipt.seq … checkpoint.seq): the root chain's. */
  entries: readonly AuditEntry[]
  publicKey: Ed25519PublicKeyInput
  /**
   * Issue 15 step 4: the export's other chains (parseAuditJsonl's `chains`). A receipt is checked against the entries
   * of the chain its checkpoint names (signed with it): the root chain's when it names none.
   */
  chains?: readonly { chain: string; entries: readonly AuditEntry[] }[] | undefined
}

export type VerifyReceiptReturnType =
  | { ok: true; seq: number; entryHash: string }
  | { ok: false; code: AuditCode; message: string }

/**
 * Checks that a receipt an agent got with a signature is honoured by a log:
 * the checkpoint is signed by the enclave and covers receipt.seq, the log's
 * entry at receipt.seq has the receipt's hash, and the log links it to the
 * checkpoint's head. Verify the whole log separately with verifyAuditLog.
 */
export function verifyReceipt(params: VerifyReceiptParameters): VerifyReceiptReturnType {
  const key = toEd25519PublicKey(params.publicKey)
  const parsed = AuditReceiptSchema.safeParse(params.receipt)
  if (!parsed.success) return no(AUDIT_CODES.receiptMalformed, 'receipt does not match the schema')
  const { seq, walletSeq, entryHash, checkpoint } = parsed.data
  if (!verifyAuditCheckpoint(checkpoint, key))
    return no(AUDIT_CODES.receiptCheckpointInvalid, `checkpoint signature does not verify under the enclave key`)
  if (checkpoint.seq < seq)
    return no(AUDIT_CODES.receiptNotCovered, `checkpoint at seq ${checkpoint.seq} does not cover seq ${seq}`)
  if (checkpoint.seq === seq && checkpoint.head !== entryHash)
    return no(AUDIT_CODES.receiptCheckpointInvalid, `checkpoint head ${checkpoint.head} is not the receipt's entry hash`)

  const chain = checkpoint.chain ?? ''
  const entries = chain === '' ? params.entries : params.chains?.find((c) => c.chain === chain)?.entries
  if (entries === undefined) return no(AUDIT_CODES.receiptEntryMissing, `the receipt is of chain ${chain}, which the log does not hold`)
  let i = indexOfSeq(entries, seq)
  if (i < 0) return no(AUDIT_CODES.receiptEntryMissing, `the log has no entry at seq ${seq}${chain === '' ? '' : ` of chain ${chain}`}`)
  let hash = hashOf(entries[i])
  if (hash !== entryHash)
    return no(AUDIT_CODES.receiptEntryMismatch, `the log's entry at seq ${seq} hashes to ${hash ?? '(malformed)'}, the receipt says ${entryHash}`)
  if (walletSeq !== undefined && entries[i]?.walletSeq !== walletSeq)
    return no(AUDIT_CODES.receiptEntryMismatch, `the log's entry at seq ${seq} has walletSeq ${entries[i]?.walletSeq ?? '(none)'}, the receipt says ${walletSeq}`)
  // Walk the links from the receipt's entry up to the checkpoint's head.
  for (let s = seq + 1; s <= checkpoint.seq; s++) {
    const next = entries[++i]
    if (next?.seq !== s || next.prevHash !== hash)
      return no(AUDIT_CODES.receiptChainBroken, `the log does not link seq ${s - 1} to seq ${s}`)
    hash = hashOf(next)
  }
  if (hash !== checkpoint.head)
    return no(AUDIT_CODES.receiptChainBroken, `the log's entry at seq ${checkpoint.seq} is not the checkpoint's head`)
  return { ok: true, seq, entryHash }
}

function no(code: AuditCode, message: string): VerifyReceiptReturnType {
  return { ok: false, code, message }
}

function hashOf(entry: AuditEntry | undefined): string | undefined {
  if (!AuditEntrySchema.safeParse(entry).success) return undefined
  try {
    return hashCanonicalAuditEntry((entry as AuditEntry).prevHash, canonicalJson(entry))
  } catch {
    return undefined
  }
}

function indexOfSeq(entries: readonly AuditEntry[], seq: number): number {
  const first = entries[0]?.seq
  const guess = typeof first === 'number' ? seq - first : -1
  if (entries[guess]?.seq === seq) return guess
  return entries.findIndex((e) => e?.seq === seq)
}
