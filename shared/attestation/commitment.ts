import { createHash } from 'node:crypto'
import * as z from 'zod'
import { canonicalJson } from '../canonical/canonicalJson.js'

/** First 8 bytes of bursar's user_data: ASCII "BURSAR01" (format version 1). */
export const ATTESTATION_USER_DATA_MAGIC = 'BURSAR01'

const Hex32 = z.string().regex(/^0x[0-9a-fA-F]{64}$/, 'expected 0x + 64 hex digits')
const Address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'expected 0x + 40 hex digits')
const Count = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER)

/** What the enclave commits to in its attestation user_data (docs/attestation.md, "Commitment"). */
export const AttestationUserDataInputsSchema = z.strictObject({
  configVersion: z.string().min(1).max(128),
  stateVersion: Count,
  policySetHash: Hex32,
  auditHead: z.strictObject({ seq: Count, hash: Hex32 }),
  wallets: z
    .array(Address)
    .max(1000)
    .refine((ws) => new Set(ws.map((w) => w.toLowerCase())).size === ws.length, 'duplicate wallet'),
})

export type AttestationUserDataInputs = z.infer<typeof AttestationUserDataInputsSchema>

/**
 * bursar's attestation binding: "BURSAR01" ‖ SHA-256(canonical JSON of the
 * inputs with hex lower-cased and wallets sorted) — 40 bytes that a third
 * party recomputes from the inputs the host serves next to the document.
 */
export function computeAttestationUserData(inputs: AttestationUserDataInputs): Uint8Array {
  const v = AttestationUserDataInputsSchema.parse(inputs)
  const normalized = {
    configVersion: v.configVersion,
    stateVersion: v.stateVersion,
    policySetHash: v.policySetHash.toLowerCase(),
    auditHead: { seq: v.auditHead.seq, hash: v.auditHead.hash.toLowerCase() },
    wallets: v.wallets.map((w) => w.toLowerCase()).sort(),
  }
  const digest = createHash('sha256').update(canonicalJson(normalized), 'utf8').digest()
  const out = new Uint8Array(8 + 32)
  out.set(Buffer.from(ATTESTATION_USER_DATA_MAGIC, 'ascii'), 0)
  out.set(digest, 8)
  return out
}
