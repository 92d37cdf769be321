import { spawnSync } from 'node:child_process'
import { generateKeyPairSync, sign } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import type { AuditCheckpoint, AuditEntry, AuditEntryBody } from '../../shared/audit/auditEntry.js'
import { mockAuditBody } from '../../shared/audit/mockAuditLog.js'
import { parseAuditJsonl, toAuditJsonl } from '../../shared/audit/exportFormats.js'
import { verifyAuditLog } from '../../shared/audit/verifyAuditLog.js'
import { AuditChain } from '../../core/audit/AuditChain.js'
import { repoRoot } from '../lib/startStack.js'

export type BenchResult = { name: string; opsPerSec: number; seconds: number }

/**
 * Appends n realistic entries with AuditChain (a signed checkpoint every
 * 1,000), exports them as JSONL, then verifies: what `bursar audit verify`
 * runs (read the file + verifyAuditJsonl, in a child process: the goal's figure), and the
 * reference verifyAuditLog over already parsed entries. entries/s from the
 * process's CPU time (one core; a shared machine's waits do not count).
 */
export function benchAuditVerify(n = 100_000): BenchResult[] {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519')
  const chain = new AuditChain({ signer: (m) => sign(null, m, privateKey) })
  const bodies: AuditEntryBody[] = Array.from({ length: n }, (_, i) => mockAuditBody(i))
  const entries: AuditEntry[] = []
  const hashes: string[] = []
  const checkpoints: AuditCheckpoint[] = []

  const results: BenchResult[] = []
  const time = (name: string, fn: () => void) => {
    const t0 = process.hrtime.bigint()
    const c0 = process.cpuUsage()
    fn()
    const cpu = process.cpuUsage(c0)
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9
    const cpuSeconds = (cpu.user + cpu.system) / 1e6
    results.push({ name, opsPerSec: Math.round(n / cpuSeconds), seconds: Number(seconds.toFixed(3)) })
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
  let jsonl = ''
  time('audit JSONL export + parse', () => {
    jsonl = toAuditJsonl({ entries, hashes, checkpoints })
    parsed = parseAuditJsonl(jsonl)
  })
  time('audit verify, reference (parsed entries)', () => {
    const r = verifyAuditLog({ ...(parsed as ReturnType<typeof parseAuditJsonl>), publicKey })
    if (!r.ok || r.count !== n) throw new TypeError(`bench log did not verify: ${JSON.stringify(r)}`)
  })
  // What `bursar audit verify --file` does, in its own process (its heap is the CLI's, not this bench's):
  // read the file, verify; the median of three runs, entries/s from CPU time.
  const dir = mkdtempSync(path.join(tmpdir(), 'bursar-audit-bench-'))
  try {
    const file = path.join(dir, 'audit.jsonl')
    writeFileSync(file, jsonl)
    const keyHex = publicKey.export({ format: 'der', type: 'spki' }).subarray(12).toString('hex')
    const child = spawnSync(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'scripts/bench/auditVerifyChild.ts'), file, keyHex, String(n)], {
      cwd: repoRoot,
      encoding: 'utf8',
    })
    if (child.status !== 0) throw new TypeError(`auditVerifyChild failed: ${child.stderr}`)
    const { cpuUs } = JSON.parse(child.stdout) as { cpuUs: number[] }
    const median = [...cpuUs].sort((a, b) => a - b)[1] as number
    results.push({ name: 'audit verify (CLI: read + verify JSONL, own process)', opsPerSec: Math.round(n / (median / 1e6)), seconds: Number((median / 1e6).toFixed(3)) })
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
  return results
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const n = Number(process.argv[2] ?? 100_000)
  console.table(benchAuditVerify(n))
}
