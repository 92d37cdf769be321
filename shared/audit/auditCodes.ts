import type { ErrorCode } from '../errors/errorCodes.js'

/**
 * Stable codes for audit-chain verdicts and errors. Verifiers return the
 * verdict codes as values; the others are thrown as `AuditError`. Kept out of
 * AuditError.ts so the enclave's closure holds only the class (AuditChain
 * throws four of these codes by name).
 */
export const AUDIT_CODES = {
  /** An entry or checkpoint does not match the schema (or is not canonicalizable). */
  malformed: 'audit_malformed',
  /** An entry's recorded hash differs from the hash of its content. */
  entryModified: 'audit_entry_modified',
  /** A sequence number is missing from the log. */
  sequenceGap: 'audit_sequence_gap',
  /** Entries appear out of order, or one appears twice. */
  outOfOrder: 'audit_out_of_order',
  /** An entry's prevHash is not the hash of the entry before it. */
  prevHashMismatch: 'audit_prev_hash_mismatch',
  /** The log ends before a signed checkpoint (or the expected head). */
  truncated: 'audit_truncated',
  /**
   * A wallet's thread is broken (issue 15 step 2): an entry's walletSeq does not follow that wallet's previous entry
   * by one, its walletPrev is not that entry's hash, or an entry naming a wallet lacks them after threads began.
   */
  threadBroken: 'audit_thread_broken',
  /**
   * Issue 15 step 4: two entries of one wallet at the same walletSeq in two chains: two enclaves signed for the wallet
   * from one state (a fork). The message names the wallet and both chains.
   */
  walletForked: 'audit_wallet_forked',
  /**
   * Issue 15 step 4: an entry or checkpoint is presented under another chain than its own (a checkpoint of chain X in
   * chain Y's lines, a chain_started naming another chain, or a non-root chain's lines without their header).
   */
  chainMismatch: 'audit_chain_mismatch',
  /** A checkpoint's signature does not verify under the enclave key. */
  checkpointInvalid: 'audit_checkpoint_invalid',
  /** A validly signed checkpoint's head differs from the log's entry hash at its seq. */
  checkpointMismatch: 'audit_checkpoint_mismatch',
  /** Two different entries, or two signed checkpoints with different heads, for one seq. */
  fork: 'audit_fork',
  /** A head the auditor saw before is missing from this log or differs. */
  rollback: 'audit_rollback',
  /** The log's head differs from the expected head at its seq. */
  headMismatch: 'audit_head_mismatch',
  /** The public key given to a verifier is not an Ed25519 key. */
  badPublicKey: 'audit_bad_public_key',
  /** A JSONL/CSV export line cannot be parsed. */
  exportMalformed: 'audit_export_malformed',
  /** AuditChain.resumeFrom got entries that do not continue its head. */
  resumeGap: 'audit_resume_gap',
  resumeMismatch: 'audit_resume_mismatch',
  /** A checkpoint was requested on an empty chain. */
  chainEmpty: 'audit_chain_empty',
  /** A body the appender was given does not match the schema. */
  badEntry: 'audit_bad_entry',
  /** Receipt verdicts. */
  receiptMalformed: 'receipt_malformed',
  receiptCheckpointInvalid: 'receipt_checkpoint_invalid',
  receiptNotCovered: 'receipt_not_covered',
  receiptEntryMissing: 'receipt_entry_missing',
  receiptEntryMismatch: 'receipt_entry_mismatch',
  receiptChainBroken: 'receipt_chain_broken',
} as const satisfies Record<string, ErrorCode>
export type AuditCode = (typeof AUDIT_CODES)[keyof typeof AUDIT_CODES]
