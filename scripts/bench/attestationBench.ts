// Benchmark: attestation verification cost, cold (no cache) vs cached chain, against one raw ES384 verify,
// interleaved in one process (A B A B …) so a noisy machine moves both sides of each ratio together.
import { generateKeyPairSync, sign, verify } from 'node:crypto'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createMockNsm } from '../../sim/mockNsm.js'
import { CertCache, defaultCertCache } from '../../shared/attestation/CertCache.js'
import { encodeSigStructure } from '../../shared/attestation/encodeSigStructure.js'
import { unsafeParseAttestationDoc } from '../../shared/attestation/unsafeParseAttestationDoc.js'
import { verifyAttestation } from '../../shared/attestation/verifyAttestation.js'

export type BenchAttestationParameters = {
  /** Length of each measured window (ms). */
  windowMs?: number | undefined
  /** Interleaved (raw, cached) pairs; at least 3. */
  pairs?: number | undefined
  documents?: number | undefined
}

export type AttestationRow = { name: string; opsPerSec: number; cpuUsPerOp: number; ratioToRawEs384: number }
export type RatioSpread = { min: number; median: number; max: number; pairs: number[] }

export type BenchAttestationReturnType = {
  rows: AttestationRow[]
  /** raw ES384 CPU µs per op ÷ cached verify CPU µs per op, pair by pair (simulation chain, distinct documents). */
  cachedRatio: RatioSpread
  /** The same for a real Nitro document (4-certificate chain), when the vectors are present. */
  nitroRatio: RatioSpread | null
}

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url))
const NITRO_DOC = 'base_nitro_validator_20241130.cbor'

/**
 * Measures, with the verifier users run (verifyAttestation on its default process-wide cache, root as PEM text, as the
 * CLI and the owner client call it): cold verify (fresh cache each time), then `pairs` rounds of [raw ES384 verify over
 * a message as long as the documents' Sig_structure, cached-chain verify of distinct documents from one enclave, and
 * (when ../shared/vectors/nitro or BURSAR_NITRO_VECTORS is there) cached verify of a real Nitro document]. Each ratio
 * is taken within its round from process CPU time per op.
 */
export async function benchAttestation(params: BenchAttestationParameters = {}): Promise<BenchAttestationReturnType> {
  const windowMs = params.windowMs ?? 300
  const pairs = Math.max(3, params.pairs ?? 5)
  const dir = mkdtempSync(join(tmpdir(), 'bursar-bench-attest-'))
  try {
    const measuredFile = join(dir, 'enclave.js')
    writeFileSync(measuredFile, 'bench bundle')
    const nsm = createMockNsm({ pkiDir: join(dir, 'pki'), measuredFile })
    const docs: Uint8Array[] = []
    for (let i = 0; i < (params.documents ?? 200); i++) docs.push(await nsm.attest({ nonce: new Uint8Array(32).fill(i & 0xff), userData: new Uint8Array([i >> 8, i & 0xff]) }))
    const root = readFileSync(nsm.rootPemPath, 'utf8')
    const at = Date.now()
    const nitro = loadNitroDocument()

    const first = unsafeParseAttestationDoc(docs[0]!)
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-384' })
    const message = encodeSigStructure(first.protectedBytes, first.payloadBytes).fill(7)
    const signature = sign('sha384', message, { key: privateKey, dsaEncoding: 'ieee-p1363' })

    const cold = window(windowMs, (i) => void verifyAttestation(docs[i % docs.length]!, { root, at, cache: new CertCache() }))
    defaultCertCache.clear()
    const kinds = {
      raw: () => {
        if (!verify('sha384', message, { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature)) throw new RangeError('bench signature failed')
      },
      cached: (i: number) => void verifyAttestation(docs[i % docs.length]!, { root, at }),
      ...(nitro && { nitro: () => void verifyAttestation(nitro.bytes, { root: nitro.rootPem, at: 'document' }) }),
    }
    for (const op of Object.values(kinds)) for (let i = 0; i < 50; i++) op(i) // warm-up (and fills the cache)
    const rounds: Array<Record<string, Window>> = []
    for (let r = 0; r < pairs; r++) {
      const round: Record<string, Window> = {}
      for (const [kind, op] of Object.entries(kinds)) round[kind] = window(windowMs, op)
      rounds.push(round)
    }
    const ratio = (kind: string) => spread(rounds.map((w) => w.raw!.cpuUsPerOp / w[kind]!.cpuUsPerOp))
    const mean = (kind: string): Window => ({
      opsPerSec: Math.round(rounds.reduce((s, w) => s + w[kind]!.opsPerSec, 0) / pairs),
      cpuUsPerOp: rounds.reduce((s, w) => s + w[kind]!.cpuUsPerOp, 0) / pairs,
    })
    const raw = mean('raw')
    const row = (name: string, w: Window): AttestationRow => ({ name, opsPerSec: w.opsPerSec, cpuUsPerOp: round1(w.cpuUsPerOp), ratioToRawEs384: round2(raw.cpuUsPerOp / w.cpuUsPerOp) })
    const rows = [
      row('attestation verify, cold chain (cache cleared each time)', cold),
      row('attestation verify, cached chain (same enclave, distinct documents)', mean('cached')),
      ...(nitro ? [row('attestation verify, cached chain (real Nitro document, 4 certificates)', mean('nitro'))] : []),
      row('raw ES384 verify (node:crypto)', raw),
    ]
    return { rows, cachedRatio: ratio('cached'), nitroRatio: nitro ? ratio('nitro') : null }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

type Window = { opsPerSec: number; cpuUsPerOp: number }

function window(durationMs: number, op: (i: number) => void): Window {
  const cpu = process.cpuUsage()
  const start = performance.now()
  let n = 0
  while (performance.now() - start < durationMs) {
    for (let k = 0; k < 10; k++) op(n++)
  }
  const used = process.cpuUsage(cpu)
  return { opsPerSec: Math.round((n * 1000) / (performance.now() - start)), cpuUsPerOp: (used.user + used.system) / n }
}

function loadNitroDocument(): { bytes: Uint8Array; rootPem: string } | null {
  const dir = resolve(REPO_ROOT, process.env.BURSAR_NITRO_VECTORS ?? '../shared/vectors/nitro')
  if (!existsSync(join(dir, NITRO_DOC)) || !existsSync(join(dir, 'root.pem'))) return null
  return { bytes: new Uint8Array(readFileSync(join(dir, NITRO_DOC))), rootPem: readFileSync(join(dir, 'root.pem'), 'utf8') }
}

function spread(xs: number[]): RatioSpread {
  const sorted = [...xs].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  const median = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
  return { min: round2(sorted[0]!), median: round2(median), max: round2(sorted[sorted.length - 1]!), pairs: xs.map(round2) }
}

const round1 = (x: number) => Math.round(x * 10) / 10
const round2 = (x: number) => Math.round(x * 100) / 100

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await benchAttestation()
  for (const row of r.rows) console.log(`${row.opsPerSec.toString().padStart(8)} ops/s ${row.cpuUsPerOp.toFixed(0).padStart(6)} µs CPU  ${row.ratioToRawEs384.toFixed(2)}×  ${row.name}`)
  const show = (s: RatioSpread) => `min ${s.min} median ${s.median} max ${s.max} (pairs ${s.pairs.join(' ')})`
  console.log(`cached ÷ raw ES384, interleaved: ${show(r.cachedRatio)}`)
  if (r.nitroRatio) console.log(`real Nitro cached ÷ raw ES384, interleaved: ${show(r.nitroRatio)}`)
}
