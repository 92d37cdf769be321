/**
 * SIMULATION ONLY — NOT SECURE. An NsmProvider that produces documents in
 * exactly the Nitro format (untagged COSE_Sign1, protected {1:-35}, ES384
 * raw r‖s, all mandatory fields, 16 × 48-byte PCRs) signed by a simulation
 * PKI, so the production verifier runs unchanged against the simulation root.
 * Never reachable from the production entrypoint (enclave/main.ts).
 */
import { createHash, KeyObject, randomBytes, sign, webcrypto } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { encode } from 'cborg'
import { encodeSigStructure } from '../shared/attestation/encodeSigStructure.js'
import type { AttestParameters, NsmProvider } from '../enclave/nsm/NsmProvider.js'
import { NsmError } from '../enclave/nsm/NsmError.js'
import { EC_P384, ECDSA_SHA384, loadSimulationPki, serial, type SimulationPki } from './loadSimulationPki.js'
import { installReflectMetadataShim } from './installReflectMetadataShim.js'
import { simulationRootPemPath } from './simulationRootPemPath.js'

/** The @peculiar/x509 module, loaded lazily (simulation only). */
export type X509Module = typeof import('@peculiar/x509')

/** Simulated leaf lifetime, as the real NSM (~3 h). */
export const MOCK_LEAF_LIFETIME_MS = 3 * 3600_000
/** A leaf is re-issued when less than this remains. */
const LEAF_RENEW_MARGIN_MS = 5 * 60_000

export type CreateMockNsmParameters = {
  /** Where the simulation root/intermediate (and keys) live; created on first run. */
  pkiDir: string
  /** The enclave bundle that runs: PCR0 = SHA-384 of its bytes, read once at creation ("boot"). */
  measuredFile: string
  /** Clock (ms), for tests. Default Date.now. */
  now?: (() => number) | undefined
}

export type MockNsm = NsmProvider & {
  readonly kind: 'mock'
  readonly moduleId: string
  readonly pcrs: ReadonlyMap<number, Uint8Array>
  /** Path of SIMULATION-ROOT-NOT-SECURE.pem: the `--root` auditors use for this enclave. */
  readonly rootPemPath: string
}

type Leaf = { der: Uint8Array; key: KeyObject; notBefore: number; notAfter: number }

/** Creates the simulation NSM: PCR0 measures `measuredFile`; documents chain root → intermediate → short-lived leaf. */
export function createMockNsm(params: CreateMockNsmParameters): MockNsm {
  const now = params.now ?? Date.now
  const measured = readFileSync(params.measuredFile)
  const pcrs = simulatedPcrs(measured)
  const moduleId = `i-sim${randomBytes(7).toString('hex')}-enc${randomBytes(8).toString('hex')}`
  let pki: Promise<SimulationPki> | undefined
  let leaf: Promise<Leaf> | undefined

  const currentLeaf = async (t: number): Promise<Leaf> => {
    pki ??= loadX509().then((x509) => loadSimulationPki(x509, params.pkiDir, t))
    const existing = leaf && (await leaf.catch(() => undefined))
    if (existing && t >= existing.notBefore && t < existing.notAfter - LEAF_RENEW_MARGIN_MS) return existing
    leaf = issueLeaf(await pki, moduleId, t)
    return leaf
  }

  return {
    kind: 'mock',
    moduleId,
    pcrs,
    rootPemPath: simulationRootPemPath(params.pkiDir),
    async attest(request: AttestParameters): Promise<Uint8Array> {
      checkRequest(request)
      const timestamp = now()
      const cert = await currentLeaf(timestamp)
      const p = await pki!
      const payload = new Map<string, unknown>([
        ['module_id', moduleId],
        ['digest', 'SHA384'],
        ['timestamp', timestamp],
        ['pcrs', pcrs],
        ['certificate', cert.der],
        ['cabundle', [p.rootDer, p.intermediateDer]],
        ['public_key', request.publicKey ?? null],
        ['user_data', request.userData ?? null],
        ['nonce', request.nonce ?? null],
      ])
      // Keep the NSM's field order (cborg would otherwise sort map keys).
      const payloadBytes = encode(payload, { mapSorter: () => 0 })
      const protectedBytes = encode(new Map([[1, -35]]))
      const signature = sign('sha384', encodeSigStructure(protectedBytes, payloadBytes), {
        key: cert.key,
        dsaEncoding: 'ieee-p1363',
      })
      return encode([protectedBytes, new Map(), payloadBytes, new Uint8Array(signature)], { mapSorter: () => 0 })
    },
  }
}

/**
 * PCR0 = SHA-384(bundle bytes) (the image); PCR1 = SHA-384("bursar-sim:pcr1:" + Node runtime)
 * (kernel/boot analogue); PCR2 = SHA-384("bursar-sim:pcr2:" ‖ bundle) (application); PCR3..15 zero.
 */
function simulatedPcrs(measured: Uint8Array): Map<number, Uint8Array> {
  const sha384 = (...parts: (string | Uint8Array)[]) => {
    const h = createHash('sha384')
    for (const part of parts) h.update(part)
    return new Uint8Array(h.digest())
  }
  const pcrs = new Map<number, Uint8Array>()
  for (let i = 0; i < 16; i++) pcrs.set(i, new Uint8Array(48))
  pcrs.set(0, sha384(measured))
  pcrs.set(1, sha384(`bursar-sim:pcr1:node-${process.version}-${process.platform}-${process.arch}`))
  pcrs.set(2, sha384('bursar-sim:pcr2:', measured))
  return pcrs
}

async function issueLeaf(pki: SimulationPki, moduleId: string, t: number): Promise<Leaf> {
  const { x509 } = pki
  const keys = await webcrypto.subtle.generateKey(EC_P384, true, ['sign', 'verify'])
  const notBefore = Math.floor(t / 1000) * 1000
  const notAfter = Math.min(notBefore + MOCK_LEAF_LIFETIME_MS, pki.intermediate.notAfter.getTime())
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: `CN=${moduleId}.simulation.bursar, O=bursar-simulation NOT SECURE`,
    issuer: pki.intermediate.subjectName,
    notBefore: new Date(notBefore),
    notAfter: new Date(notAfter),
    publicKey: keys.publicKey,
    signingKey: pki.intermediateKey,
    signingAlgorithm: ECDSA_SHA384,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    ],
  })
  return { der: new Uint8Array(cert.rawData), key: KeyObject.from(keys.privateKey), notBefore, notAfter }
}

async function loadX509(): Promise<X509Module> {
  installReflectMetadataShim()
  const x509 = await import('@peculiar/x509')
  x509.cryptoProvider.set(globalThis.crypto)
  return x509
}

function checkRequest(request: AttestParameters): void {
  const limits = [
    ['userData', request.userData, 0, 512],
    ['nonce', request.nonce, 0, 512],
    ['publicKey', request.publicKey, 1, 1024],
  ] as const
  for (const [name, value, min, max] of limits) {
    if (value === undefined) continue
    if (!(value instanceof Uint8Array) || value.length < min || value.length > max) {
      throw new NsmError('nsm_invalid_request', `${name} must be ${min}..${max} bytes`)
    }
  }
}
