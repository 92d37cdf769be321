import * as z from 'zod'
import { CHAIN_ID_REGEX, HASH_HEX_REGEX } from './auditEntry.js'
import { CHECKPOINT_SIGNATURE_REGEX } from './checkpointSignatureRegex.js'

/**
 * The enclave's Ed25519 signature over a head (see `auditCheckpointMessage`). Its own file (diet12c): verifiers and
 * the host parse checkpoints, the enclave only makes them (core/audit/AuditChain.ts imports the type alone), so the
 * schema stays out of the trusted closure.
 */
export const AuditCheckpointSchema = z.strictObject({
  seq: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  head: z.string().regex(HASH_HEX_REGEX),
  time: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  /** Issue 15 step 4: the chain the head is of (absent: the root chain); inside the signed message. */
  chain: z.string().regex(CHAIN_ID_REGEX).optional(),
  /** `0x` + 128 hex; a turn checkpoint's (turn18) adds `.index` and `.` + 64 hex per level, ≤ 32 (verifyAuditCheckpoint). */
  signature: z.string().regex(CHECKPOINT_SIGNATURE_REGEX),
})
export type AuditCheckpoint = z.infer<typeof AuditCheckpointSchema>
