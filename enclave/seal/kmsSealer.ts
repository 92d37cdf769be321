/**
 * TRUST: Nitro-mode sealer. Each blob gets its own AES-256 data key from AWS
 * KMS, released only to this enclave: KMS encrypts it (CMS, RSAES-OAEP-SHA-256)
 * to an RSA key whose public half sits in a fresh NSM attestation document,
 * and the key policy admits only this image's PCRs. The host relays the KMS
 * traffic and stores the blobs; it never sees a data key and cannot move a
 * blob to another purpose, wallet or version (KMS EncryptionContext + GCM AAD).
 */
import { type KeyObject, createDecipheriv, generateKeyPair } from 'node:crypto'
import { promisify } from 'node:util'
import type { KMSClient, KMSClientConfig } from '@aws-sdk/client-kms'
import { canonicalJson } from '../../shared/canonical/canonicalJson.js'
import { decodeKmsBlob, type KmsBlob } from '../kms/decodeKmsBlob.js'
import { decryptCiphertextForRecipient } from '../kms/decryptCiphertextForRecipient.js'
import { mapKmsError } from '../kms/mapKmsError.js'
import type { NsmProvider } from '../nsm/NsmProvider.js'
import { SealError } from './SealError.js'
import { encryptToBlob } from './encryptToBlob.js'
import type { SealContext, Sealer, UnsealParameters } from './Sealer.js'

export type CreateKmsSealerParameters = {
  /** Symmetric KMS key: a full key ARN (aliases are refused: the host's credentials could re-point one); KMS's answers must name it. */
  keyId: string
  nsm: NsmProvider
  /** A ready client (tests, custom transports). Otherwise one is built from endpoint/region/credentials. */
  kmsClient?: KMSClient | undefined
  /** e.g. https://kms.eu-west-1.amazonaws.com:8443 in Nitro (a local port the entrypoint forwards over vsock). */
  endpoint?: string | undefined
  region?: string | undefined
  /** Default: the SDK's provider chain (env vars, or IMDS forwarded by the host). */
  credentials?: KMSClientConfig['credentials']
  maxAttempts?: number | undefined
}

export type KmsSealer = Sealer & { readonly kind: 'kms'; readonly keyId: string }

const TAG_BYTES = 16
const NO_WALLET = '(enclave)'
const MAX_LABEL_CHARS = 256

/** Creates the Nitro Sealer: per-blob KMS data keys delivered only to this attested enclave, AES-256-GCM bound to purpose, wallet and version. */
export function createKmsSealer(params: CreateKmsSealerParameters): KmsSealer {
  if (typeof params.keyId !== 'string' || params.keyId.length === 0) options('keyId is required')
  // SECURITY: only a full key ARN pins the key; an alias is resolved with whatever credentials the host supplies.
  if (!isKeyArn(params.keyId)) options(`keyId must be a full KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID), not ${params.keyId.slice(0, 80)}`)
  const { keyId, nsm } = params
  // The SDK is imported at the first KMS call (issue 18, RSS): the sim bundle leaves it out (scripts/buildEnclave.ts).
  let sdk: Promise<{ kms: typeof import('@aws-sdk/client-kms'); client: KMSClient }> | undefined
  const kms = () =>
    (sdk ??= import('@aws-sdk/client-kms').then((kms) => ({ kms, client: params.kmsClient ?? new kms.KMSClient({
      endpoint: params.endpoint,
      region: params.region,
      credentials: params.credentials,
      maxAttempts: params.maxAttempts ?? 3,
      requestHandler: { connectionTimeout: 5_000, requestTimeout: 15_000 },
    }) })))
  const highWater = new Map<string, number>()
  let rsa: Promise<{ privateKey: KeyObject; spki: Uint8Array }> | undefined

  /** Ephemeral RSA-2048 key for this process: KMS answers are encrypted to it, and it never leaves the enclave. */
  const recipientKey = () =>
    (rsa ??= promisify(generateKeyPair)('rsa', { modulusLength: 2048 }).then(({ publicKey, privateKey }) => ({ privateKey, spki: new Uint8Array(publicKey.export({ format: 'der', type: 'spki' })) })))

  const recipient = async () => {
    const key = await recipientKey()
    let doc: Uint8Array
    try {
      doc = await nsm.attest({ publicKey: key.spki })
    } catch (cause) {
      throw new SealError('seal_attestation_failed', 'Could not get an attestation document for the KMS request', { cause })
    }
    return { key, info: { AttestationDocument: doc, KeyEncryptionAlgorithm: 'RSAES_OAEP_SHA_256' as const } }
  }

  /** Checks what KMS answered (through the host) and opens the data key meant for us. */
  const openAnswer = (operation: 'GenerateDataKey' | 'Decrypt', out: { KeyId?: string | undefined; Plaintext?: Uint8Array | undefined; CiphertextForRecipient?: Uint8Array | undefined }, key: KeyObject) => {
    // SECURITY: with a Recipient, KMS never returns Plaintext; one present means the key crossed the host in clear.
    if (out.Plaintext !== undefined && out.Plaintext.length > 0) responseInvalid(operation, 'Plaintext present although a Recipient was sent')
    if (!(out.CiphertextForRecipient instanceof Uint8Array)) responseInvalid(operation, 'CiphertextForRecipient missing')
    if (out.KeyId !== keyId) responseInvalid(operation, `answered for key ${String(out.KeyId)}, expected ${keyId}`)
    return decryptCiphertextForRecipient({ cms: out.CiphertextForRecipient, rsaPrivateKey: key, expectedLength: 32 })
  }

  const noteVersion = (ctx: SealContext) => {
    const k = `${ctx.purpose}\u0000${ctx.walletId}`
    highWater.set(k, Math.max(highWater.get(k) ?? -1, ctx.version))
  }

  return {
    kind: 'kms',
    keyId,
    async seal({ purpose, walletId, version, plaintext }) {
      checkContext({ purpose, walletId, version })
      if (![plaintext].flat().every((p) => p instanceof Uint8Array)) options('plaintext must be bytes')
      const { key, info } = await recipient()
      let out
      try {
        const { kms: { GenerateDataKeyCommand }, client } = await kms()
        out = await client.send(new GenerateDataKeyCommand({
          KeyId: keyId,
          KeySpec: 'AES_256',
          EncryptionContext: encryptionContext({ purpose, walletId, version }),
          Recipient: info,
        }))
      } catch (err) {
        throw mapKmsError(err, 'GenerateDataKey')
      }
      if (!(out.CiphertextBlob instanceof Uint8Array) || out.CiphertextBlob.length === 0) responseInvalid('GenerateDataKey', 'CiphertextBlob missing')
      const dataKey = openAnswer('GenerateDataKey', out, key.privateKey)
      try {
        const blob = encryptToBlob(dataKey, aad({ purpose, walletId, version }), plaintext, { v: 1, kind: 'kms', purpose, walletId, version, dataKey: out.CiphertextBlob } satisfies Omit<KmsBlob, 'iv' | 'ct'>)
        noteVersion({ purpose, walletId, version })
        return blob
      } finally {
        dataKey.fill(0)
      }
    },

    async unseal({ blob, purpose, walletId }: UnsealParameters) {
      const b = decodeKmsBlob(blob)
      // SECURITY: refuse before asking KMS; KMS and the GCM AAD would refuse too, since both bind the context.
      if (b.purpose !== purpose || b.walletId !== walletId) {
        throw new SealError('seal_context_mismatch', 'Sealed blob belongs to another purpose or wallet', {
          details: `asked purpose=${JSON.stringify(purpose)} wallet=${JSON.stringify(walletId)}, blob has purpose=${JSON.stringify(b.purpose)} wallet=${JSON.stringify(b.walletId)}`,
        })
      }
      const { key, info } = await recipient()
      let out
      try {
        const { kms: { DecryptCommand }, client } = await kms()
        // SECURITY: KeyId pins our key; without it KMS would use whatever key the host's blob names.
        out = await client.send(new DecryptCommand({
          CiphertextBlob: b.dataKey,
          KeyId: keyId,
          EncryptionContext: encryptionContext(b),
          Recipient: info,
        }))
      } catch (err) {
        throw mapKmsError(err, 'Decrypt')
      }
      const dataKey = openAnswer('Decrypt', out, key.privateKey)
      let plaintext: Buffer
      try {
        const decipher = createDecipheriv('aes-256-gcm', dataKey, b.iv)
        decipher.setAAD(aad(b))
        decipher.setAuthTag(b.ct.subarray(b.ct.length - TAG_BYTES))
        plaintext = Buffer.concat([decipher.update(b.ct.subarray(0, b.ct.length - TAG_BYTES)), decipher.final()])
      } catch (cause) {
        throw new SealError('seal_auth_failed', 'Sealed blob failed authentication (tampered, or its header was edited)', { cause })
      } finally {
        dataKey.fill(0)
      }
      // SECURITY: a blob older than one this sealer already saw for the same purpose/wallet is a rollback.
      const max = highWater.get(`${b.purpose}\u0000${b.walletId}`)
      if (max !== undefined && b.version < max) {
        throw new SealError('seal_version_rollback', 'Sealed blob is older than one this enclave already saw', {
          details: `blob version ${b.version}, newest seen ${max}`,
        })
      }
      noteVersion(b)
      return { plaintext: new Uint8Array(plaintext), version: b.version }
    },
  }
}

/** What KMS binds into the data key's CiphertextBlob (values are strings; KMS logs them in CloudTrail, so no secrets). */
function encryptionContext(ctx: SealContext): Record<string, string> {
  return { purpose: ctx.purpose, walletId: ctx.walletId === '' ? NO_WALLET : ctx.walletId, version: String(ctx.version) }
}

function aad(ctx: SealContext): Buffer {
  return Buffer.from(canonicalJson({ kind: 'kms', purpose: ctx.purpose, walletId: ctx.walletId, version: ctx.version }), 'utf8')
}

function checkContext(ctx: SealContext): void {
  if (typeof ctx.purpose !== 'string' || ctx.purpose.length === 0 || ctx.purpose.length > MAX_LABEL_CHARS) options('purpose must be a non-empty string')
  if (typeof ctx.walletId !== 'string' || ctx.walletId.length > MAX_LABEL_CHARS) options('walletId must be a string')
  if (ctx.walletId === NO_WALLET) options(`walletId ${NO_WALLET} is reserved`)
  if (!Number.isSafeInteger(ctx.version) || ctx.version < 0) options('version must be a non-negative safe integer')
}

function isKeyArn(id: string): boolean {
  return /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/(mrk-)?[0-9a-fA-F-]{32,36}$/.test(id)
}

function responseInvalid(operation: string, why: string): never {
  throw new SealError('seal_kms_response_invalid', 'KMS answer (relayed by the host) is not acceptable', { details: `${operation}: ${why}` })
}

function options(why: string): never {
  throw new SealError('seal_options_invalid', 'Invalid seal parameters', { details: why })
}
