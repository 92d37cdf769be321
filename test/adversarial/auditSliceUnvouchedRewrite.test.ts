import { describe, expect, it } from 'vitest'
import { hashAuditEntry } from '../../shared/audit/hashAuditEntry.js'
import { mockAuditLog } from '../../shared/audit/mockAuditLog.js'
import { verifyAuditSlice } from '../../shared/audit/verifyAuditSlice.js'

/**
 * Attack (malicious host vs the owner console's audit check): an owner-scoped slice has gaps, and the host picks
 * which checkpoints it serves "at these seqs". It rewrites the owner's newest entry (amount 450 → 45), records
 * the new hash beside it and simply leaves out the checkpoint at that seq (or omits the recorded hash). The
 * slice verifier returned ok, and the console printed "Chain intact: N entries each hash to their record".
 * The verifier must name every entry no enclave signature covers, so the console cannot call it verified.
 */
describe('audit slice: the host rewrites an edge entry and withholds its checkpoint', () => {
  const log = mockAuditLog({ n: 10, checkpointEvery: 1 })
  const pick = [1, 2, 3, 6, 9]
  const slice = () => ({
    entries: pick.map((i) => structuredClone(log.entries[i]!)),
    hashes: pick.map((i) => log.hashes[i]) as (string | undefined)[],
    checkpoints: log.checkpoints.filter((c) => pick.includes(c.seq)),
    publicKey: log.publicKeyHex,
  })

  it('honest slice with a checkpoint at every seq: everything vouched', () => {
    expect(verifyAuditSlice(slice())).toMatchObject({ ok: true, count: 5, unvouched: [] })
  })

  it('rewritten last entry, fresh recorded hash, its checkpoint withheld: reported unvouched', () => {
    const s = slice()
    ;(s.entries[4]!.action as { amount: string }).amount = '1'
    s.hashes[4] = hashAuditEntry(s.entries[4]!)
    s.checkpoints = s.checkpoints.filter((c) => c.seq !== 9)
    expect(verifyAuditSlice(s)).toMatchObject({ ok: true, unvouched: [9] })
  })

  it('a rewritten run (entries 1..3 relinked, recorded hashes omitted, checkpoints withheld): all three unvouched', () => {
    const s = slice()
    ;(s.entries[0]!.action as { amount: string }).amount = '1'
    s.entries[1]!.prevHash = hashAuditEntry(s.entries[0]!)
    s.entries[2]!.prevHash = hashAuditEntry(s.entries[1]!)
    s.hashes[0] = s.hashes[1] = s.hashes[2] = undefined
    s.checkpoints = s.checkpoints.filter((c) => c.seq > 3)
    expect(verifyAuditSlice(s)).toMatchObject({ ok: true, unvouched: [1, 2, 3] })
  })

  it('a checkpoint from another enclave key is refused, not skipped', () => {
    const other = mockAuditLog({ n: 10, checkpointEvery: 1, seedByte: 9 })
    const s = slice()
    s.checkpoints = other.checkpoints.filter((c) => pick.includes(c.seq))
    expect(verifyAuditSlice(s)).toMatchObject({ ok: false, code: 'audit_checkpoint_invalid' })
  })
})
