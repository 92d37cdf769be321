import { decode } from 'cborg'
import * as z from 'zod'
import { SealError } from '../seal/SealError.js'

/** Strictly decodes a KMS-sealed blob (exact key set, types and sizes); anything else is seal_blob_malformed. */
export function decodeKmsBlob(blob: Uint8Array): KmsBlob {
  if (!(blob instanceof Uint8Array)) malformed('blob is not bytes')
  let v: unknown
  try {
    v = decode(blob, { strict: true, rejectDuplicateMapKeys: true })
  } catch (cause) {
    malformed('blob is not valid CBOR', cause)
  }
  const r = KmsBlobSchema.safeParse(v)
  if (!r.success) malformed(r.error.issues.map((i) => `${i.path.join('.') || 'blob'}: ${i.message}`).join('; ').slice(0, 300))
  return r.data
}

const bytes = (min: number, max: number) => z.custom<Uint8Array>((b) => b instanceof Uint8Array, 'expected bytes').refine((b) => b.length >= min && b.length <= max, `expected ${min}..${max} bytes`)
/** A KMS-sealed blob: the KMS CiphertextBlob of its data key, the context it is bound to, and AES-256-GCM iv/ct (tag appended). */
const KmsBlobSchema = z.strictObject({
  v: z.literal(1),
  /** Which sealer made it: a blob of another sealer (the simulation's `sim`) is refused. */
  kind: z.literal('kms'),
  purpose: z.string(),
  walletId: z.string(),
  version: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  /** KMS CiphertextBlob of the per-blob AES-256 data key (opaque; KMS binds the EncryptionContext into it); 6 KiB is the API maximum. */
  dataKey: bytes(1, 6144),
  iv: bytes(12, 12),
  /** Ciphertext with the 16-byte GCM tag appended. */
  ct: bytes(16, Number.POSITIVE_INFINITY),
})
export type KmsBlob = z.infer<typeof KmsBlobSchema>

function malformed(why: string, cause?: unknown): never {
  throw new SealError('seal_blob_malformed', 'Sealed blob is malformed', { details: why, cause })
}
