/** TEST HELPER: the OpenSSL CLI as an independent CMS producer and consumer. */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export const OAEP_256 = ['-keyopt', 'rsa_padding_mode:oaep', '-keyopt', 'rsa_oaep_md:sha256', '-keyopt', 'rsa_mgf1_md:sha256']

export const haveOpenssl = (() => {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
})()

/** `openssl cms -encrypt` to a fresh RSA-2048 certificate (by subjectKeyIdentifier); returns the CMS and the private key PEM. */
export function opensslEncrypt(plaintext: Uint8Array, extra: string[]): { cms: Uint8Array; keyPem: string } {
  const d = mkdtempSync(join(tmpdir(), 'bursar-cms-'))
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(d, 'k.pem'), '-out', join(d, 'c.pem'), '-subj', '/CN=t', '-days', '1'], { stdio: 'ignore' })
  writeFileSync(join(d, 'pt'), plaintext)
  execFileSync('openssl', ['cms', '-encrypt', '-binary', '-in', join(d, 'pt'), '-recip', join(d, 'c.pem'), '-keyid', '-outform', 'DER', '-out', join(d, 'out'), ...extra], { stdio: 'ignore' })
  return { cms: new Uint8Array(readFileSync(join(d, 'out'))), keyPem: readFileSync(join(d, 'k.pem'), 'utf8') }
}

/** `openssl cms -decrypt` with a private key PEM; returns the plaintext. */
export function opensslDecrypt(cms: Uint8Array, keyPem: string): Uint8Array {
  const d = mkdtempSync(join(tmpdir(), 'bursar-cms-'))
  writeFileSync(join(d, 'in'), cms)
  writeFileSync(join(d, 'k.pem'), keyPem, { mode: 0o600 })
  execFileSync('openssl', ['cms', '-decrypt', '-binary', '-inform', 'DER', '-in', join(d, 'in'), '-inkey', join(d, 'k.pem'), '-out', join(d, 'out')], { stdio: 'ignore' })
  return new Uint8Array(readFileSync(join(d, 'out')))
}
