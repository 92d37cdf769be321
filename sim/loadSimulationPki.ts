/**
 * SIMULATION ONLY — NOT SECURE. Creates (first run) or reloads the simulation
 * CA chain root → intermediate in `pkiDir`. The private keys sit in plain
 * files next to the certificates: anything signed by this PKI proves nothing
 * about real hardware.
 */
import { randomBytes, webcrypto } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { X509Module as X509 } from './mockNsm.js'
import { SIMULATION_ROOT_FILE } from './simulationRootPemPath.js'

type CryptoKey = webcrypto.CryptoKey
type Certificate = InstanceType<X509['X509Certificate']>

export const SIMULATION_FILES = {
  rootCert: SIMULATION_ROOT_FILE,
  rootKey: 'SIMULATION-ROOT-KEY-NOT-SECURE.pem',
  intermediateCert: 'SIMULATION-INTERMEDIATE-NOT-SECURE.pem',
  intermediateKey: 'SIMULATION-INTERMEDIATE-KEY-NOT-SECURE.pem',
} as const

export const EC_P384 = { name: 'ECDSA', namedCurve: 'P-384' } as const
export const ECDSA_SHA384 = { name: 'ECDSA', hash: 'SHA-384' } as const
const YEAR_MS = 365 * 24 * 3600 * 1000

export type SimulationPki = {
  x509: X509
  rootDer: Uint8Array
  intermediateDer: Uint8Array
  intermediate: Certificate
  intermediateKey: CryptoKey
}

/** Loads the simulation root and intermediate from `pkiDir`, generating and storing them on first use. */
export async function loadSimulationPki(x509: X509, pkiDir: string, now: number = Date.now()): Promise<SimulationPki> {
  mkdirSync(pkiDir, { recursive: true })
  const file = (name: string) => join(pkiDir, name)
  let root: { cert: Certificate; key: CryptoKey }
  if (existsSync(file(SIMULATION_FILES.rootCert)) && existsSync(file(SIMULATION_FILES.rootKey))) {
    root = await readPair(x509, file(SIMULATION_FILES.rootCert), file(SIMULATION_FILES.rootKey))
  } else {
    const keys = await webcrypto.subtle.generateKey(EC_P384, true, ['sign', 'verify'])
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: serial(),
      name: 'CN=bursar SIMULATION root NOT SECURE, O=bursar-simulation',
      notBefore: new Date(now - 3600_000),
      notAfter: new Date(now + 20 * YEAR_MS),
      keys,
      signingAlgorithm: ECDSA_SHA384,
      extensions: caExtensions(x509, undefined),
    })
    await writePair(cert, keys.privateKey, file(SIMULATION_FILES.rootCert), file(SIMULATION_FILES.rootKey))
    root = { cert, key: keys.privateKey }
  }
  let inter: typeof root | undefined
  if (existsSync(file(SIMULATION_FILES.intermediateCert)) && existsSync(file(SIMULATION_FILES.intermediateKey))) {
    inter = await readPair(x509, file(SIMULATION_FILES.intermediateCert), file(SIMULATION_FILES.intermediateKey))
    const stale = inter.cert.notAfter.getTime() < now + 24 * 3600_000 || inter.cert.issuer !== root.cert.subject
    if (stale) inter = undefined
  }
  if (!inter) {
    const keys = await webcrypto.subtle.generateKey(EC_P384, true, ['sign', 'verify'])
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: serial(),
      subject: 'CN=bursar SIMULATION intermediate NOT SECURE, O=bursar-simulation',
      issuer: root.cert.subjectName,
      notBefore: new Date(now - 3600_000),
      notAfter: new Date(Math.min(now + 5 * YEAR_MS, root.cert.notAfter.getTime())),
      publicKey: keys.publicKey,
      signingKey: root.key,
      signingAlgorithm: ECDSA_SHA384,
      extensions: caExtensions(x509, 0),
    })
    await writePair(cert, keys.privateKey, file(SIMULATION_FILES.intermediateCert), file(SIMULATION_FILES.intermediateKey))
    inter = { cert, key: keys.privateKey }
  }
  return {
    x509,
    rootDer: new Uint8Array(root.cert.rawData),
    intermediateDer: new Uint8Array(inter.cert.rawData),
    intermediate: inter.cert,
    intermediateKey: inter.key,
  }
}

/** A random positive 16-byte certificate serial, hex. */
export function serial(): string {
  const bytes = randomBytes(16)
  bytes[0] = bytes[0]! & 0x7f
  return bytes.toString('hex')
}

function caExtensions(x509: X509, pathLen: number | undefined) {
  return [
    new x509.BasicConstraintsExtension(true, pathLen, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
  ]
}

async function readPair(x509: X509, certPath: string, keyPath: string) {
  const cert = new x509.X509Certificate(readFileSync(certPath, 'utf8'))
  const pem = readFileSync(keyPath, 'utf8').replace(/-----[A-Z ]+-----|\s+/g, '')
  const key = await webcrypto.subtle.importKey('pkcs8', Buffer.from(pem, 'base64'), EC_P384, true, ['sign'])
  return { cert, key }
}

async function writePair(cert: Certificate, key: CryptoKey, certPath: string, keyPath: string) {
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key)).toString('base64')
  const keyPem = `-----BEGIN PRIVATE KEY-----\n${pkcs8.match(/.{1,64}/g)!.join('\n')}\n-----END PRIVATE KEY-----\n`
  atomicWrite(keyPath, keyPem, 0o600)
  atomicWrite(certPath, `${cert.toString('pem')}\n`, 0o644)
}

function atomicWrite(path: string, text: string, mode: number): void {
  const tmp = `${path}.${process.pid}.tmp`
  writeFileSync(tmp, text, { mode })
  renameSync(tmp, path)
}
