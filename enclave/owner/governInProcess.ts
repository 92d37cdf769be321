import { governLink } from '../../governance/governLink.js'

/**
 * Issue 12 stage A: the signer's only way into governance/ (scripts/checkBoundaries.ts). Stage B replaces it with a
 * relay through the host to governance's own attested process; the bytes on both sides are the same.
 */
export function governInProcess(linkKey: Uint8Array, viewBytes: Uint8Array): Promise<Uint8Array> {
  return governLink(linkKey, viewBytes)
}
