import { encode } from 'cborg'
import type { AttestParameters } from './NsmProvider.js'
import { NsmError } from './NsmError.js'

/** The NSM driver refuses requests above 4 KiB (NSM_REQUEST_MAX_SIZE). */
export const NSM_REQUEST_MAX_BYTES = 0x1000

/**
 * Encodes the NSM request `{"Attestation": {"user_data": bstr|null, "nonce":
 * bstr|null, "public_key": bstr|null}}` (serde externally-tagged enum, as
 * aws-nitro-enclaves-nsm-api expects), enforcing the sizes bursar produces.
 */
export function encodeNsmRequest(params: AttestParameters): Uint8Array {
  const field = (name: string, value: Uint8Array | undefined, min: number, max: number): Uint8Array | null => {
    if (value === undefined) return null
    if (!(value instanceof Uint8Array) || value.length < min || value.length > max) {
      throw new NsmError('nsm_invalid_request', `${name} must be ${min}..${max} bytes`)
    }
    return value
  }
  const attestation = new Map<string, Uint8Array | null>([
    ['user_data', field('user_data', params.userData, 0, 512)],
    ['nonce', field('nonce', params.nonce, 0, 512)],
    ['public_key', field('public_key', params.publicKey, 1, 1024)],
  ])
  const bytes = encode(new Map([['Attestation', attestation]]), { mapSorter: () => 0 })
  if (bytes.length > NSM_REQUEST_MAX_BYTES) throw new NsmError('nsm_invalid_request', 'request exceeds 4 KiB')
  return bytes
}
