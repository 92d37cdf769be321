import { createHash } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { AWS_NITRO_ROOT_G1_PEM, AWS_NITRO_ROOT_G1_SHA256 } from './awsNitroRootG1.js'
import { parseCertificate } from './parseCertificate.js'
import { pinnedRootDer } from './pinnedRootDer.js'

describe('AWS_NITRO_ROOT_G1_PEM', () => {
  const der = pinnedRootDer(AWS_NITRO_ROOT_G1_PEM)

  it('has the published SHA-256 of its DER', () => {
    expect(createHash('sha256').update(der).digest('hex')).toBe('641a0321a3e244efe456463195d606317ed7cdcc3c1756e09893f3c68f79bb5b')
    expect(AWS_NITRO_ROOT_G1_SHA256).toBe('641a0321a3e244efe456463195d606317ed7cdcc3c1756e09893f3c68f79bb5b')
  })

  it('is a P-384 CA with keyCertSign, valid 2019-10-28 .. 2049-10-28', () => {
    const cert = parseCertificate(der, 'root')
    expect(cert.basicConstraints?.ca).toBe(true)
    expect(cert.keyUsage?.keyCertSign).toBe(true)
    expect(cert.namedCurve).toBe('secp384r1')
    expect(new Date(cert.notBefore).toISOString()).toBe('2019-10-28T13:28:05.000Z')
    expect(new Date(cert.notAfter).toISOString()).toBe('2049-10-28T14:28:05.000Z')
    expect(cert.issuer).toBe(cert.subject)
  })

  const vectorsRoot = resolve(fileURLToPath(new URL('../../', import.meta.url)), process.env.BURSAR_NITRO_VECTORS ?? '../shared/vectors/nitro', 'root.pem')
  it.runIf(existsSync(vectorsRoot))('matches the vectors root.pem', () => {
    expect(Buffer.from(pinnedRootDer(readFileSync(vectorsRoot, 'utf8'))).equals(Buffer.from(der))).toBe(true)
  })

  it('refuses a missing or non-PEM root', () => {
    expect(() => pinnedRootDer('')).toThrow(expect.objectContaining({ code: 'attestation_options_invalid' }))
    expect(() => pinnedRootDer(new Uint8Array(0))).toThrow(expect.objectContaining({ code: 'attestation_options_invalid' }))
    expect(() => parseCertificate(new Uint8Array([0x30, 0x03, 1, 2, 3]), 'x')).toThrow(expect.objectContaining({ code: 'attestation_chain_invalid' }))
  })
})
