/**
 * A checkpoint's `signature` field, exactly as the enclave writes it (docs/audit.md "Checkpoint"): `0x` + 128
 * lowercase hex; a turn checkpoint (turn18) adds `.index` (decimal, no leading zero) and `.` + 64 lowercase hex per
 * level, ≤ 32. rt33a: one spelling everywhere — the schema, verifyAuditCheckpoint itself (callers that skip the schema:
 * the console's head), the TS SDK, and the Python SDK's `_SIG` — so no verifier accepts a spelling another refuses.
 */
export const CHECKPOINT_SIGNATURE_REGEX = /^0x[0-9a-f]{128}(?:\.(?:0|[1-9][0-9]{0,9})(?:\.[0-9a-f]{64}){0,32})?$/
