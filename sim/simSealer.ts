/**
 * TRUST: simulation-only sealer. The sealing key sits in a local file, so
 * anyone who can read that file can unseal: this is NOT SECURE and exists so
 * the simulation runs the same state code as Nitro mode.
 */
import { createDecipheriv, randomBytes } from 'node:crypto'
import { closeSync, constants, fstatSync, openSync, readSync, writeSync, fsyncSync } from 'node:fs'
import { decode } from 'cborg'
import { canonicalJson } from '../shared/canonical/canonicalJson.js'
import { SealError } from '../enclave/seal/SealError.js'
import { encryptToBlob } from '../enclave/seal/encryptToBlob.js'
import type { SealContext, Sealer, UnsealParameters } from '../enclave/seal/Sealer.js'

export type CreateSimSealerParameters = {
  /** Path of the 32-byte sealing key; created with mode 0600 on first run. */
  keyFile: string
  /** Refuse blobs older than a version this sealer already saw for the same purpose/wallet (default true). */
  rejectOlderVersions?: boolean | undefined
}

const KEY_BYTES = 32
const IV_BYTES = 12
const TAG_BYTES = 16
const MAX_LABEL_CHARS = 256
const BLOB_KEYS = ['ct', 'iv', 'kind', 'purpose', 'v', 'version', 'walletId']

type SimBlob = { v: 1; kind: 'sim'; purpose: string; walletId: string; version: number; iv: Uint8Array; ct: Uint8Array }

/** Creates the simulation Sealer: AES-256-GCM under a key from a private local file, each blob bound to its purpose, wallet and version. */
export function createSimSealer(params: CreateSimSealerParameters): Sealer {
  const key = loadOrCreateKey(params.keyFile)
  const rejectOlder = params.rejectOlderVersions ?? true
  const highWater = new Map<string, number>()
  const seen = (ctx: SealContext) => {
    const k = `${ctx.purpose}\u0000${ctx.walletId}`
    highWater.set(k, Math.max(highWater.get(k) ?? -1, ctx.version))
  }

  return {
    kind: 'sim',
    async seal({ purpose, walletId, version, plaintext }) {
      checkContext({ purpose, walletId, version })
      if (![plaintext].flat().every((p) => p instanceof Uint8Array)) options('plaintext must be bytes')
      const blob = encryptToBlob(key, aad({ purpose, walletId, version }), plaintext, { v: 1, kind: 'sim', purpose, walletId, version } satisfies Omit<SimBlob, 'iv' | 'ct'>)
      seen({ purpose, walletId, version })
      return blob
    },
    async unseal({ blob, purpose, walletId }: UnsealParameters) {
      const b = decodeBlob(blob)
      // SECURITY: a blob the host hands back must be the one for what the caller asked.
      if (b.purpose !== purpose || b.walletId !== walletId) {
        throw new SealError('seal_context_mismatch', 'Sealed blob belongs to another purpose or wallet', {
          details: `asked purpose=${JSON.stringify(purpose)} wallet=${JSON.stringify(walletId)}, blob has purpose=${JSON.stringify(b.purpose)} wallet=${JSON.stringify(b.walletId)}`,
        })
      }
      let plaintext: Uint8Array
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, b.iv)
        decipher.setAAD(aad(b))
        decipher.setAuthTag(b.ct.subarray(b.ct.length - TAG_BYTES))
        plaintext = Buffer.concat([decipher.update(b.ct.subarray(0, b.ct.length - TAG_BYTES)), decipher.final()])
      } catch (cause) {
        throw new SealError('seal_auth_failed', 'Sealed blob failed authentication (tampered, or sealed under another key)', { cause })
      }
      const k = `${b.purpose}\u0000${b.walletId}`
      const max = highWater.get(k)
      // SECURITY: checked only after authentication, so a forged version cannot poison the high-water mark.
      if (rejectOlder && max !== undefined && b.version < max) {
        throw new SealError('seal_version_rollback', 'Sealed blob is older than one this enclave already saw', {
          details: `blob version ${b.version}, newest seen ${max}`,
        })
      }
      seen(b)
      return { plaintext: new Uint8Array(plaintext), version: b.version }
    },
  }
}

function aad(ctx: SealContext): Buffer {
  return Buffer.from(canonicalJson({ kind: 'sim', purpose: ctx.purpose, walletId: ctx.walletId, version: ctx.version }), 'utf8')
}

function checkContext(ctx: SealContext): void {
  if (typeof ctx.purpose !== 'string' || ctx.purpose.length === 0 || ctx.purpose.length > MAX_LABEL_CHARS) options('purpose must be a non-empty string')
  if (typeof ctx.walletId !== 'string' || ctx.walletId.length > MAX_LABEL_CHARS) options('walletId must be a string')
  if (!Number.isSafeInteger(ctx.version) || ctx.version < 0) options('version must be a non-negative safe integer')
}

function decodeBlob(blob: Uint8Array): SimBlob {
  if (!(blob instanceof Uint8Array)) malformed('blob is not bytes')
  let v: unknown
  try {
    v = decode(blob, { strict: true, rejectDuplicateMapKeys: true })
  } catch (cause) {
    malformed('blob is not valid CBOR', cause)
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Uint8Array) malformed('blob is not a map')
  const o = v as Record<string, unknown>
  if (Object.keys(o).sort().join(',') !== BLOB_KEYS.join(',')) malformed(`blob keys are ${Object.keys(o).join(',')}`)
  if (o.v !== 1) malformed(`unsupported blob format version ${String(o.v)}`)
  if (o.kind !== 'sim') malformed(`blob was sealed by the ${String(o.kind)} sealer, not the sim sealer`)
  if (typeof o.purpose !== 'string' || typeof o.walletId !== 'string') malformed('purpose/walletId must be strings')
  if (typeof o.version !== 'number' || !Number.isSafeInteger(o.version) || o.version < 0) malformed('version must be a non-negative integer')
  if (!(o.iv instanceof Uint8Array) || o.iv.length !== IV_BYTES) malformed('iv must be 12 bytes')
  if (!(o.ct instanceof Uint8Array) || o.ct.length < TAG_BYTES) malformed('ct is shorter than the GCM tag')
  return o as SimBlob
}

/** Opens the key file (creating it exclusively on first run) and checks it through the same descriptor. */
function loadOrCreateKey(keyFile: string): Buffer {
  if (typeof keyFile !== 'string' || keyFile.length === 0) options('keyFile is required')
  let fd: number
  try {
    fd = openSync(keyFile, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600)
    try {
      writeSync(fd, randomBytes(KEY_BYTES))
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code !== 'EEXIST') keyInvalid(keyFile, 'cannot create the key file', cause)
  }
  try {
    fd = openSync(keyFile, constants.O_RDONLY | constants.O_NOFOLLOW)
  } catch (cause) {
    keyInvalid(keyFile, 'cannot open the key file (symlinks are refused)', cause)
  }
  try {
    const st = fstatSync(fd)
    if (!st.isFile()) keyInvalid(keyFile, 'not a regular file')
    // SECURITY: a key others can read or write is not a sealing key.
    if ((st.mode & 0o077) !== 0) {
      throw new SealError('seal_key_file_insecure', 'Sealing key file is accessible to group or others', {
        details: `${keyFile} has mode ${(st.mode & 0o777).toString(8)}`,
        metaMessages: [`Run: chmod 600 ${keyFile}`],
      })
    }
    const uid = process.getuid?.()
    if (uid !== undefined && st.uid !== uid) {
      throw new SealError('seal_key_file_insecure', 'Sealing key file is owned by another user', {
        details: `${keyFile} owner uid ${st.uid}, process uid ${uid}`,
      })
    }
    if (st.size !== KEY_BYTES) keyInvalid(keyFile, `size is ${st.size} bytes, expected ${KEY_BYTES}`)
    const key = Buffer.alloc(KEY_BYTES)
    if (readSync(fd, key, 0, KEY_BYTES, 0) !== KEY_BYTES) keyInvalid(keyFile, 'short read')
    return key
  } finally {
    closeSync(fd)
  }
}

function keyInvalid(keyFile: string, why: string, cause?: unknown): never {
  throw new SealError('seal_key_file_invalid', `Sealing key file is unusable: ${why}`, {
    details: keyFile,
    cause,
    metaMessages: ['Restore the original key file; a new key cannot unseal existing blobs.'],
  })
}

function malformed(why: string, cause?: unknown): never {
  throw new SealError('seal_blob_malformed', 'Sealed blob is malformed', { details: why, cause })
}

function options(why: string): never {
  throw new SealError('seal_options_invalid', 'Invalid seal parameters', { details: why })
}
