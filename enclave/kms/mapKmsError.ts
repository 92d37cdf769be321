import { SealError } from '../seal/SealError.js'

const DENIED = new Set([
  'AccessDeniedException',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'IncompleteSignature',
  'ExpiredTokenException',
  'MissingAuthenticationTokenException',
])
const BLOB_REFUSED = new Set(['InvalidCiphertextException', 'IncorrectKeyException'])
const KEY_UNUSABLE = new Set([
  'NotFoundException',
  'DisabledException',
  'KMSInvalidStateException',
  'KeyUnavailableException',
  'InvalidKeyUsageException',
])
const UNAVAILABLE = new Set([
  'KMSInternalException',
  'DependencyTimeoutException',
  'ThrottlingException',
  'LimitExceededException',
  'ServiceUnavailableException',
  'InternalFailure',
  'TimeoutError',
])
const NOTHING_LOST = 'Nothing stored was changed: the host keeps the previous sealed blob, so retrying later is safe.'

/**
 * Maps anything the AWS SDK throws for a KMS call to one typed SealError
 * with what to do next (the single seam where raw SDK errors become ours;
 * their messages stay in `details`/`cause`, never on the wire).
 */
export function mapKmsError(err: unknown, operation: 'GenerateDataKey' | 'Decrypt'): SealError {
  if (err instanceof SealError) return err
  const e = (err ?? {}) as { name?: string; message?: string; code?: string; $fault?: string; $metadata?: { httpStatusCode?: number } }
  const name = typeof e.name === 'string' ? e.name : 'UnknownError'
  const status = e.$metadata?.httpStatusCode
  const details = `${operation}: ${name}${status ? ` (HTTP ${status})` : ''}: ${String(e.message ?? '').slice(0, 300)}`
  if (DENIED.has(name)) {
    return new SealError('seal_kms_denied', 'KMS refused the request', {
      details,
      cause: err,
      metaMessages: [
        'Check that the key policy allows this image: its kms:RecipientAttestation:ImageSha384 / PCR conditions must equal',
        'the PCRs of the running EIF (`bursar nitro pcrs --eif-measurements <file>`), and that the instance role may call',
        `kms:${operation} on the key. Credentials reach the enclave through the host (IMDS forward); check they are current.`,
        NOTHING_LOST,
      ],
    })
  }
  if (BLOB_REFUSED.has(name)) {
    return new SealError('seal_auth_failed', 'KMS refused the sealed blob for this key and encryption context', {
      details,
      cause: err,
      metaMessages: ['The blob was swapped, edited, or sealed under another key or context; do not retry with it.'],
    })
  }
  if (KEY_UNUSABLE.has(name)) {
    return new SealError('seal_kms_key_unusable', 'The KMS key cannot be used', {
      details,
      cause: err,
      metaMessages: ['Check BURSAR_KMS_KEY_ID and the region, and that the key is enabled and symmetric (ENCRYPT_DECRYPT).', NOTHING_LOST],
    })
  }
  const networkCodes = ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH']
  if (UNAVAILABLE.has(name) || e.$fault === 'server' || (status !== undefined && status >= 500) || (e.code !== undefined && networkCodes.includes(e.code))) {
    return new SealError('seal_kms_unavailable', 'KMS is unavailable', {
      details,
      cause: err,
      metaMessages: [
        'Retry later. In Nitro mode check the path enclave → 127.0.0.1:BURSAR_KMS_LOCAL_PORT → vsock 3:8000 →',
        'the host\'s vsock-proxy → kms.<region>.amazonaws.com:443 (deploy/nitro/host-bridge.sh must be running).',
        NOTHING_LOST,
      ],
    })
  }
  return new SealError('seal_kms_error', 'KMS request failed', { details, cause: err, metaMessages: [NOTHING_LOST] })
}
