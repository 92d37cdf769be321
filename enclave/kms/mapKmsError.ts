import { SealError, type SealErrorCode } from '../seal/SealError.js'

const DENIED = new Set(['AccessDeniedException', 'UnrecognizedClientException', 'InvalidSignatureException', 'IncompleteSignature', 'ExpiredTokenException', 'MissingAuthenticationTokenException'])
const BLOB_REFUSED = new Set(['InvalidCiphertextException', 'IncorrectKeyException'])
const KEY_UNUSABLE = new Set(['NotFoundException', 'DisabledException', 'KMSInvalidStateException', 'KeyUnavailableException', 'InvalidKeyUsageException'])
const UNAVAILABLE = new Set(['KMSInternalException', 'DependencyTimeoutException', 'ThrottlingException', 'LimitExceededException', 'ServiceUnavailableException', 'InternalFailure', 'TimeoutError'])
const NETWORK_CODES = ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH']

/**
 * Maps anything the AWS SDK throws for a KMS call to one typed SealError (the single seam where raw SDK errors
 * become ours; their messages stay in `details`/`cause`, never on the wire). What to do next is the error
 * table's hint for the code (shared/errors/errorCodes.ts), which is what the host and CLI show.
 */
export function mapKmsError(err: unknown, operation: 'GenerateDataKey' | 'Decrypt'): SealError {
  if (err instanceof SealError) return err
  const e = (err ?? {}) as { name?: string; message?: string; code?: string; $fault?: string; $metadata?: { httpStatusCode?: number } }
  const name = typeof e.name === 'string' ? e.name : 'UnknownError'
  const status = e.$metadata?.httpStatusCode
  const details = `${operation}: ${name}${status ? ` (HTTP ${status})` : ''}: ${String(e.message ?? '').slice(0, 300)}`
  const unavailable = UNAVAILABLE.has(name) || e.$fault === 'server' || (status !== undefined && status >= 500) || (e.code !== undefined && NETWORK_CODES.includes(e.code))
  const [code, message]: [SealErrorCode, string] = DENIED.has(name)
    ? ['seal_kms_denied', 'KMS refused the request']
    : BLOB_REFUSED.has(name)
      ? ['seal_auth_failed', 'KMS refused the sealed blob for this key and encryption context']
      : KEY_UNUSABLE.has(name)
        ? ['seal_kms_key_unusable', 'The KMS key cannot be used']
        : unavailable
          ? ['seal_kms_unavailable', 'KMS is unavailable']
          : ['seal_kms_error', 'KMS request failed']
  return new SealError(code, message, { details, cause: err })
}
