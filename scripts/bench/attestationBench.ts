// Benchmark: attestation verification cost, cold (no cache) vs cached chain, against one raw ES384 verify.
import { generateKeyPairSync, sign, verify } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createMockNsm } from '../../sim/mockNsm.js'
import { CertCache } from '../../shared/attestation/CertCache.js'
import { verifyAttestation } from '../../shared/attestation/verifyAttestation.js'

export type BenchAttestationParameters = { durationMs?: number | undefined; documents?: number | undefined }

/** Measures ops/s of: cold verify (fresh cache each time), cached-chain verify (same enclave, distinct documents), one raw ES384 verify. */
export async function benchAttestation(params: BenchAttestationParameters = {}): Promise<Array<{ name: string; opsPerSec: number }>> {
  const durationMs = params.durationMs ?? 1000
  const dir = mkdtempSync(join(tmpdir(), 'bursar-bench-attest-'))
  try {
    const measuredFile = join(dir, 'enclave.js')
    writeFileSync(measuredFile, 'bench bundle')
    const nsm = createMockNsm({ pkiDir: join(dir, 'pki'), measuredFile })
    const docs: Uint8Array[] = []
    for (let i = 0; i < (params.documents ?? 200); i++) docs.push(await nsm.attest({ nonce: new Uint8Array(32).fill(i & 0xff), userData: new Uint8Array([i >> 8, i & 0xff]) }))
    const root = readFileSync(nsm.rootPemPath, 'utf8')
    const at = Date.now()

    const cold = measure(durationMs, (i) => {
      verifyAttestation(docs[i % docs.length]!, { root, at, cache: new CertCache() })
    })
    const cache = new CertCache()
    verifyAttestation(docs[0]!, { root, at, cache })
    const cached = measure(durationMs, (i) => {
      verifyAttestation(docs[i % docs.length]!, { root, at, cache })
    })
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-384' })
    const message = new Uint8Array(2500).fill(7)
    const signature = sign('sha384', message, { key: privateKey, dsaEncoding: 'ieee-p1363' })
    const raw = measure(durationMs, () => {
      if (!verify('sha384', message, { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature)) throw new RangeError('bench signature failed')
    })
    return [
      { name: 'attestation verify, cold chain (cache cleared each time)', opsPerSec: cold },
      { name: 'attestation verify, cached chain (same enclave, distinct documents)', opsPerSec: cached },
      { name: 'raw ES384 verify (node:crypto)', opsPerSec: raw },
    ]
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

function measure(durationMs: number, op: (i: number) => void): number {
  for (let i = 0; i < 20; i++) op(i) // warm-up
  const start = performance.now()
  let n = 0
  while (performance.now() - start < durationMs) {
    for (let k = 0; k < 10; k++) op(n++)
  }
  return Math.round((n * 1000) / (performance.now() - start))
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const r of await benchAttestation()) console.log(`${r.opsPerSec.toString().padStart(8)} ops/s  ${r.name}`)
}
