import { generateKeyPairSync, sign } from 'node:crypto'
import { pathToFileURL } from 'node:url'
import type { AuditCheckpoint, AuditEntry } from '../../shared/audit/auditEntry.js'
import { mockAuditBody } from '../../shared/audit/mockAuditLog.js'
import { parseAuditJsonl, toAuditJsonl } from '../../shared/audit/exportFormats.js'
import { verifyAuditLog } from '../../shared/audit/verifyAuditLog.js'
import { AuditChain } from '../../enclave/audit/AuditChain.js'

export type BenchResult = { name: string; opsPerSec: number; seconds: number }

/**
 * Appends n realistic entries with AuditChain (a signed checkpoint every
 * 1,000), then verifies them with verifyAuditLog; reports entries/s for
 * append, JSONL export + parse, and verify.
 */
export function benchAuditVerify(n = 100_000): BenchResult[] {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519')
  const chain = new AuditChain({ signer: (m) => sign(null, m, privateKey) })
  const bodies = Array.from({ length: n }, (_, i) => mockAuditBody(i))
  const entries: AuditEntry[] = []
  const hashes: string[] = []
  const checkpoints: AuditCheckpoint[] = []

  const results: BenchResult[] = []
  const time = (name: string, fn: () => void) => {
    const t0 = process.hrtime.bigint()
    fn()
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9
    results.push({ name, opsPerSec: Math.round(n / seconds), seconds: Number(seconds.toFixed(3)) })
  }

  time('audit append (+ checkpoint / 1000)', () => {
    for (let i = 0; i < n; i++) {
      const { entry, hash } = chain.append(bodies[i] as AuditEntry)
      entries.push(entry)
      hashes.push(hash)
      if ((i + 1) % 1000 === 0) checkpoints.push(chain.checkpoint(entry.time))
    }
  })
  let parsed: ReturnType<typeof parseAuditJsonl> | undefined
  time('audit JSONL export + parse', () => {
    parsed = parseAuditJsonl(toAuditJsonl({ entries, hashes, checkpoints }))
  })
  time('audit verify', () => {
    const r = verifyAuditLog({ ...(parsed as ReturnType<typeof parseAuditJsonl>), publicKey })
    if (!r.ok || r.count !== n) throw new TypeError(`bench log did not verify: ${JSON.stringify(r)}`)
  })
  return results
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const n = Number(process.argv[2] ?? 100_000)
  console.table(benchAuditVerify(n))
}
