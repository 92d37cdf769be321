import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { runAuditVerify } from '../../cli/commands/audit.js'
import { toAuditJsonl } from '../../shared/audit/exportFormats.js'
import { hashAuditEntry } from '../../shared/audit/hashAuditEntry.js'
import { mockAuditLog } from '../../shared/audit/mockAuditLog.js'

/**
 * Attack (issue 15 step 2, rt30a): the thread's last entry is past every checkpoint, so the host may rewrite it and
 * re-hash it. It sets `time` to 8.7e15 ms — a valid entry (an integer below 2^53) that no Date can hold. Before the
 * fix `bursar audit verify --wallet` threw a RangeError printing the thread (no verdict, a stack trace); defined
 * outcome: the entry prints with its raw time and the verdict stands (OK with the unsigned warning).
 */
describe('adversarial: an unsigned thread entry with a time no Date holds', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bursar-far-time-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))
  it('audit verify --wallet still answers', async () => {
    const A = '0x1111111111111111111111111111111111111111'
    const log = mockAuditLog({ n: 12, checkpointEvery: 4, threads: true, wallets: [A, '0x2222222222222222222222222222222222222222'] })
    const entries = log.entries.filter((e) => e.wallet === A)
    const last = { ...entries[entries.length - 1]!, time: 8_700_000_000_000_000 }
    const seqs = new Set(entries.map((e) => e.seq))
    const edited = [...entries.slice(0, -1), last]
    const file = join(dir, 'a.jsonl')
    writeFileSync(file, toAuditJsonl({ entries: edited, hashes: edited.map((e) => hashAuditEntry(e)), checkpoints: log.checkpoints.filter((c) => seqs.has(c.seq) && c.seq < last.seq) }))
    const r = await runAuditVerify({ file, publicKey: log.publicKeyHex, wallet: A })
    expect(r.exitCode).toBe(0)
    expect(r.stdout).toContain('WARNING: ')
    expect(r.stdout).toContain('8700000000000000')
  })
})
