/**
 * Interleaved A/B of `bursar audit verify --file`'s verifier (issue 18): the base revision's shared/ (git archive
 * into a directory under this checkout, so it resolves the same node_modules) against this checkout's, both
 * verifying the same export (n mock entries built with AuditChain, a signed checkpoint every 1,000, as
 * auditBench.ts) with verifyAuditJsonlFile, in one process, in rotating order, a full GC before each run, entries/s
 * from CPU time. Prints each
 * round and the B ÷ A ratio per round (min / median / max): on a shared machine quote the ratios.
 *
 *   npx tsx scripts/bench/auditVerifyAb.ts [rounds=7] [n=100000] [base=main]
 */
import { execFileSync } from 'node:child_process'
import { generateKeyPairSync, sign } from 'node:crypto'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { AuditChain } from '../../core/audit/AuditChain.js'
import type { AuditCheckpoint, AuditEntry } from '../../shared/audit/auditEntry.js'
import { toAuditJsonl } from '../../shared/audit/exportFormats.js'
import { mockAuditBody } from '../../shared/audit/mockAuditLog.js'
import * as current from '../../shared/audit/verifyAuditJsonl.js'
import { repoRoot } from '../lib/startStack.js'

const rounds = Number(process.argv[2] ?? 7)
const n = Number(process.argv[3] ?? 100_000)
const base = process.argv[4] ?? 'main'

type Verify = typeof current.verifyAuditJsonlFile
const rev = execFileSync('git', ['rev-parse', '--short', base], { cwd: repoRoot, encoding: 'utf8' }).trim()
const baseDir = path.join(repoRoot, `.ab-audit-${rev}`)
const work = mkdtempSync(path.join(tmpdir(), 'bursar-audit-ab-'))
try {
  rmSync(baseDir, { recursive: true, force: true })
  mkdirSync(baseDir)
  execFileSync('sh', ['-c', `git archive ${rev} shared | tar -x -C ${JSON.stringify(baseDir)}`], { cwd: repoRoot })
  const baseMod = (await import(pathToFileURL(path.join(baseDir, 'shared/audit/verifyAuditJsonl.ts')).href)) as typeof current

  const { privateKey, publicKey } = generateKeyPairSync('ed25519')
  const chain = new AuditChain({ signer: (m) => sign(null, m, privateKey) })
  const entries: AuditEntry[] = []
  const hashes: string[] = []
  const checkpoints: AuditCheckpoint[] = []
  for (let i = 0; i < n; i++) {
    const { entry, hash } = chain.append(mockAuditBody(i) as AuditEntry)
    entries.push(entry)
    hashes.push(hash)
    if ((i + 1) % 1000 === 0) checkpoints.push(chain.checkpoint(entry.time))
  }
  const file = path.join(work, 'audit.jsonl')
  writeFileSync(file, toAuditJsonl({ entries, hashes, checkpoints }))
  const keyHex = publicKey.export({ format: 'der', type: 'spki' }).subarray(12).toString('hex')

  // A full GC before each counted run, so one side's garbage (or external memory) is not collected in the other's run.
  setFlagsFromString('--expose-gc')
  const gc = runInNewContext('gc') as () => void
  const run = (verify: Verify): number => {
    gc()
    const c0 = process.cpuUsage()
    const r = verify({ file, publicKey: keyHex })
    const c = process.cpuUsage(c0)
    if (!r.ok || r.count !== n) throw new TypeError(`the export did not verify: ${JSON.stringify(r)}`)
    return Math.round(n / ((c.user + c.system) / 1e6))
  }
  const configs: [string, Verify][] = [
    [`A base ${rev}`, baseMod.verifyAuditJsonlFile],
    ['B this checkout', current.verifyAuditJsonlFile],
  ]
  for (const [, verify] of configs) run(verify) // warm-up: both compiled and optimized before the counted rounds
  const ratios: number[] = []
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? configs : [...configs].reverse()
    const got = new Map<string, number>()
    for (const [name, verify] of order) got.set(name, run(verify))
    const a = got.get(configs[0]![0]) as number
    const b = got.get(configs[1]![0]) as number
    ratios.push(b / a)
    console.log(`round ${round + 1}: A ${a.toLocaleString('en')} entries/s, B ${b.toLocaleString('en')} entries/s, B ÷ A ${(b / a).toFixed(3)} (load ${loadavg()[0]?.toFixed(2)})`)
  }
  const sorted = [...ratios].sort((x, y) => x - y)
  const median = sorted[Math.floor(sorted.length / 2)] as number
  console.log(`B ÷ A over ${rounds} rounds: min ${sorted[0]?.toFixed(3)}, median ${median.toFixed(3)}, max ${sorted[sorted.length - 1]?.toFixed(3)}`)
} finally {
  rmSync(baseDir, { recursive: true, force: true })
  rmSync(work, { recursive: true, force: true })
}
