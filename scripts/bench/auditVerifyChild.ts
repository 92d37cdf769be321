/**
 * `bursar audit verify --file` without the CLI's argument parsing: reads the
 * JSONL export (in chunks, as the CLI does) and verifies it in a fresh process (so its heap is the CLI's,
 * not the bench's), three times; prints the CPU µs of each run as JSON.
 *
 *   node --import tsx scripts/bench/auditVerifyChild.ts FILE PUBLIC_KEY_HEX COUNT
 */
import { verifyAuditJsonlFile } from '../../shared/audit/verifyAuditJsonl.js'

const [file, publicKey, count] = process.argv.slice(2) as [string, string, string]
const cpuUs: number[] = []
for (let run = 0; run < 3; run++) {
  const c0 = process.cpuUsage()
  const r = verifyAuditJsonlFile({ file, publicKey })
  const c = process.cpuUsage(c0)
  if (!r.ok || r.count !== Number(count)) throw new TypeError(`bench log did not verify: ${JSON.stringify(r)}`)
  cpuUs.push(c.user + c.system)
}
process.stdout.write(`${JSON.stringify({ cpuUs })}\n`)
