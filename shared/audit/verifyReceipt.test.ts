import { describe, expect, it } from 'vitest'
import type { AuditCheckpoint } from './auditEntry.js'
import type { AuditReceipt } from './verifyReceipt.js'
import { mockAuditLog } from './mockAuditLog.js'
import { parseAuditJsonl, toAuditJsonl } from './exportFormats.js'
import { verifyReceipt } from './verifyReceipt.js'

/** A receipt as an agent gets it with signature #seq: the entry hash and a checkpoint at that seq. */
function receiptFor(log: ReturnType<typeof mockAuditLog>, seq: number): AuditReceipt {
  const checkpoint = log.checkpoints.find((c) => c.seq === seq) as AuditCheckpoint
  return { seq, entryHash: log.hashes[seq] as string, checkpoint }
}

describe('verifyReceipt', () => {
  it('verifies against an export taken later, and fails once the host removed the entry', () => {
    const log = mockAuditLog({ n: 10, checkpointEvery: 1 })
    const receipt = receiptFor(log, 6)
    for (let i = 0; i < 20; i++) log.append(undefined, i % 7 === 0) // the log grows afterwards
    const later = parseAuditJsonl(toAuditJsonl(log))
    expect(verifyReceipt({ receipt, entries: later.entries, publicKey: log.publicKeyHex })).toEqual({
      ok: true,
      seq: 6,
      entryHash: log.hashes[6],
    })
    // Removed outright.
    const removed = later.entries.filter((e) => e.seq !== 6)
    expect(verifyReceipt({ receipt, entries: removed, publicKey: log.publicKeyHex })).toMatchObject({
      ok: false,
      code: 'receipt_entry_missing',
    })
    // Removed and the rest renumbered: another entry now sits at seq 6.
    const renumbered = removed.map((e, i) => ({ ...e, seq: i }))
    expect(verifyReceipt({ receipt, entries: renumbered, publicKey: log.publicKeyHex })).toMatchObject({
      ok: false,
      code: 'receipt_entry_mismatch',
    })
  })

  it('walks the links when the checkpoint is later than the receipt entry', () => {
    const log = mockAuditLog({ n: 10, checkpointEvery: 5 })
    const receipt: AuditReceipt = { seq: 6, entryHash: log.hashes[6] as string, checkpoint: log.checkpoints[1] as AuditCheckpoint }
    expect(verifyReceipt({ receipt, entries: log.entries, publicKey: log.publicKeyHex }).ok).toBe(true)
    const edited = structuredClone(log.entries)
    edited[8]!.reason = 'rewritten'
    expect(verifyReceipt({ receipt, entries: edited, publicKey: log.publicKeyHex })).toMatchObject({ code: 'receipt_chain_broken' })
  })

  it('refuses a forged or non-covering checkpoint', () => {
    const log = mockAuditLog({ n: 10, checkpointEvery: 5 })
    const other = mockAuditLog({ n: 10, checkpointEvery: 5, seedByte: 3 })
    const base = { entries: log.entries, publicKey: log.publicKeyHex }
    expect(verifyReceipt({ ...base, receipt: { seq: 4, entryHash: log.hashes[4]!, checkpoint: other.checkpoints[0]! } })).toMatchObject({
      code: 'receipt_checkpoint_invalid',
    })
    expect(verifyReceipt({ ...base, receipt: { seq: 6, entryHash: log.hashes[6]!, checkpoint: log.checkpoints[0]! } })).toMatchObject({
      code: 'receipt_not_covered',
    })
    expect(verifyReceipt({ ...base, receipt: { seq: 4, entryHash: log.hashes[3]!, checkpoint: log.checkpoints[0]! } })).toMatchObject({
      code: 'receipt_checkpoint_invalid',
    })
  })
})
