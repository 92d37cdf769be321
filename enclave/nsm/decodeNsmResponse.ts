import { decode } from 'cborg'
import { NsmError } from './NsmError.js'

/**
 * Decodes the NSM response: `{"Attestation": {"document": bstr}}` yields the
 * document; `{"Error": "<ErrorCode>"}` (e.g. "InvalidArgument") and anything
 * else become a typed NsmError.
 */
export function decodeNsmResponse(bytes: Uint8Array): Uint8Array {
  let response: unknown
  try {
    response = decode(bytes, { useMaps: true, rejectDuplicateMapKeys: true, allowUndefined: false })
  } catch (cause) {
    throw new NsmError('nsm_bad_response', 'NSM response is not valid CBOR', { cause })
  }
  if (!(response instanceof Map) || response.size !== 1) {
    throw new NsmError('nsm_bad_response', 'NSM response must be a single-entry map')
  }
  const error = response.get('Error')
  if (error !== undefined) {
    const name = typeof error === 'string' ? error : 'unknown'
    throw new NsmError('nsm_error', `NSM refused the request: ${name}`, { details: name })
  }
  const attestation = response.get('Attestation')
  const document = attestation instanceof Map ? attestation.get('document') : undefined
  if (!(document instanceof Uint8Array) || document.length === 0) {
    throw new NsmError('nsm_bad_response', 'NSM response carries no attestation document')
  }
  return document
}
