import { decode } from 'cborg'
import { SealError } from '../seal/SealError.js'

/** A KMS-sealed blob: the KMS CiphertextBlob of its data key, the context it is bound to, and AES-256-GCM iv/ct (tag appended). */
export type KmsBlob = {
  v: 1
  kind: 'kms'
  purpose: string
  walletId: string
  version: number
  /** KMS CiphertextBlob of the per-blob AES-256 data key (opaque; KMS binds the EncryptionContext into it). */
  dataKey: Uint8Array
  iv: Uint8Array
  ct: Uint8Array
}

const KEYS = ['ct', 'dataKey', 'iv', 'kind', 'purpose', 'v', 'version', 'walletId']
/** KMS CiphertextBlobs for symmetric keys are a few hundred bytes; 6 KiB is the API maximum. */
const MAX_DATA_KEY_BYTES = 6144

/** Strictly decodes a KMS-sealed blob (exact key set, types and sizes); anything else is seal_blob_malformed. */
export function decodeKmsBlob(blob: Uint8Array): KmsBlob {
  if (!(blob instanceof Uint8Array)) malformed('blob is not bytes')
  let v: unknown
  try {
    v = decode(blob, { strict: true, rejectDuplicateMapKeys: true })
  } catch (cause) {
    malformed('blob is not valid CBOR', cause)
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Uint8Array) malformed('blob is not a map')
  const o = v as Record<string, unknown>
  if (Object.keys(o).sort().join(',') !== KEYS.join(',')) malformed(`blob keys are ${Object.keys(o).join(',')}`)
  if (o.v !== 1) malformed(`unsupported blob format version ${String(o.v)}`)
  if (o.kind !== 'kms') malformed(`blob was sealed by the ${String(o.kind)} sealer, not the KMS sealer`)
  if (typeof o.purpose !== 'string' || typeof o.walletId !== 'string') malformed('purpose/walletId must be strings')
  if (typeof o.version !== 'number' || !Number.isSafeInteger(o.version) || o.version < 0) malformed('version must be a non-negative integer')
  if (!(o.dataKey instanceof Uint8Array) || o.dataKey.length === 0 || o.dataKey.length > MAX_DATA_KEY_BYTES) malformed('dataKey must be 1..6144 bytes')
  if (!(o.iv instanceof Uint8Array) || o.iv.length !== 12) malformed('iv must be 12 bytes')
  if (!(o.ct instanceof Uint8Array) || o.ct.length < 16) malformed('ct is shorter than the GCM tag')
  return o as KmsBlob
}

function malformed(why: string, cause?: unknown): never {
  throw new SealError('seal_blob_malformed', 'Sealed blob is malformed', { details: why, cause })
}
