import { verify } from 'node:crypto'
import { AttestationError } from './AttestationError.js'
import type { CertCache } from './CertCache.js'
import { OID_ECDSA_SHA384, type ParsedCertificate } from './parseCertificate.js'

export type VerifyCertChainParameters = {
  /** The pinned root, parsed. Substituted for cabundle[0], which is never read. */
  root: ParsedCertificate
  /** The document's cabundle, root first. */
  cabundle: readonly Uint8Array[]
  /** The document's signing certificate (DER). */
  leaf: Uint8Array
  /** Time (ms since epoch) at which every certificate must be valid. */
  at: number
  cache: CertCache
}

/**
 * Validates leaf ← cabundle[n] … cabundle[1] ← pinned root: ECDSA P-384/SHA-384
 * signatures, issuer/subject chaining, CA flags, keyCertSign, pathLen,
 * digitalSignature on the leaf, validity at `at`. Returns the parsed leaf.
 */
export function verifyCertChain(params: VerifyCertChainParameters): ParsedCertificate {
  const { root, cabundle, leaf, at, cache } = params
  // SECURITY: cabundle[0] is attacker-supplied; the pinned root takes its place.
  const path: ParsedCertificate[] = [root]
  for (let i = 1; i < cabundle.length; i++) path.push(cache.parse(cabundle[i]!, `cabundle[${i}]`))
  const leafCert = cache.parse(leaf, 'certificate')
  path.push(leafCert)
  const last = path.length - 1

  for (let i = 1; i <= last; i++) {
    const issuer = path[i - 1]!
    const child = path[i]!
    const label = i === last ? 'certificate' : `cabundle[${i}]`
    const firstLink = i === 1
    const fail = (reason: string, expected?: string, actual?: string): never => {
      throw new AttestationError(
        firstLink ? 'attestation_root_mismatch' : 'attestation_chain_invalid',
        firstLink ? `${label} does not chain to the pinned root` : `${label} does not chain to its issuer`,
        { details: reason, expected, actual },
      )
    }
    if (child.issuer !== issuer.subject) fail('issuer name differs from the subject of the certificate above', issuer.subject, child.issuer)
    // SECURITY: only CAs with keyCertSign may sign, within their path length.
    if (issuer.basicConstraints?.ca !== true) fail('issuer is not a CA (basicConstraints)')
    if (issuer.keyUsage?.keyCertSign !== true) fail('issuer lacks keyUsage keyCertSign')
    const intermediatesBelow = last - i
    const pathLen = issuer.basicConstraints?.pathLen
    if (pathLen !== undefined && intermediatesBelow > pathLen) fail(`pathLenConstraint ${pathLen} exceeded (${intermediatesBelow} CAs below)`)
    if (child.signatureAlgorithm !== OID_ECDSA_SHA384) fail(`signature algorithm ${child.signatureAlgorithm} is not ecdsa-with-SHA384`)
    if (issuer.namedCurve !== 'secp384r1') fail(`issuer key is not P-384 (${issuer.namedCurve ?? 'not EC'})`)
    if (child.unknownCritical) fail(`unprocessed critical extension ${child.unknownCritical}`)
    if (!cache.hasVerifiedLink(issuer, child)) {
      if (!verifyDerSignature(issuer, child)) fail('certificate signature does not verify under the issuer key')
      cache.addVerifiedLink(issuer, child)
    }
  }

  if (leafCert.basicConstraints?.ca === true) chainInvalid('signing certificate must not be a CA')
  if (leafCert.keyUsage?.digitalSignature !== true) chainInvalid('signing certificate lacks keyUsage digitalSignature')
  if (leafCert.namedCurve !== 'secp384r1') chainInvalid('signing key is not P-384')

  path.forEach((cert, i) => {
    if (at < cert.notBefore || at > cert.notAfter) {
      const label = i === 0 ? 'pinned root' : i === last ? 'certificate' : `cabundle[${i}]`
      throw new AttestationError('attestation_cert_expired', `${label} is not valid at ${iso(at)}`, {
        expected: `${iso(cert.notBefore)} .. ${iso(cert.notAfter)}`,
        actual: iso(at),
      })
    }
  })
  return leafCert
}

function verifyDerSignature(issuer: ParsedCertificate, child: ParsedCertificate): boolean {
  try {
    return verify('sha384', child.tbs, { key: issuer.publicKey, dsaEncoding: 'der' }, child.signature)
  } catch {
    return false
  }
}

function chainInvalid(reason: string): never {
  throw new AttestationError('attestation_chain_invalid', 'Signing certificate is unfit', { details: reason })
}

function iso(ms: number): string {
  return new Date(ms).toISOString()
}
