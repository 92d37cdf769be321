import { AttestationError } from './AttestationError.js'

const PEM_CERT = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+)-----END CERTIFICATE-----/

/** Returns the DER of the caller's pinned root, given as PEM text or DER bytes. */
export function pinnedRootDer(root: string | Uint8Array): Uint8Array {
  if (root instanceof Uint8Array) {
    if (root.length === 0) invalid('pinned root is empty')
    // A PEM file read as bytes is accepted too.
    if (root[0] === 0x2d) return pinnedRootDer(Buffer.from(root).toString('latin1'))
    return root
  }
  if (typeof root !== 'string') invalid('pinned root must be PEM text or DER bytes')
  const match = PEM_CERT.exec(root)
  if (!match?.[1]) invalid('pinned root is not a PEM certificate')
  const der = Buffer.from(match[1].replace(/\s+/g, ''), 'base64')
  if (der.length === 0) invalid('pinned root PEM is empty')
  return new Uint8Array(der)
}

function invalid(reason: string): never {
  throw new AttestationError('attestation_options_invalid', 'A pinned root certificate is required', { details: reason })
}
