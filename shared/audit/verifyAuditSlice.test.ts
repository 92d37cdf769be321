import { describe, expect, it } from 'vitest'
import { hashAuditEntry } from './hashAuditEntry.js'
import { mockAuditLog } from './mockAuditLog.js'
import { verifyAuditSlice } from './verifyAuditSlice.js'

describe('verifyAuditSlice (an owner-scoped log with gaps)', () => {
  const log = mockAuditLog({ n: 10, checkpointEvery: 2 })
  const pick = [1, 2, 3, 6, 9]
  const slice = () => ({
    entries: pick.map((i) => structuredClone(log.entries[i]!)),
    hashes: pick.map((i) => log.hashes[i]),
    checkpoints: log.checkpoints.filter((c) => pick.includes(c.seq)),
    publicKey: log.publicKeyHex,
  })

  it('accepts an untouched slice and counts what the chain and the enclave vouch for', () => {
    expect(verifyAuditSlice(slice())).toEqual({ ok: true, count: 5, linked: 2, signed: 3, unvouched: [6], unvouchedChains: [''] })
  })

  it('finds an entry changed in place (amount edited, recorded hash kept)', () => {
    const s = slice()
    ;(s.entries[3]!.action as { amount: string }).amount = '1'
    expect(verifyAuditSlice(s)).toMatchObject({ ok: false, code: 'audit_entry_modified', seq: 6 })
  })

  it('finds an entry rewritten with a fresh recorded hash through the signed checkpoint at its seq', () => {
    const s = slice()
    ;(s.entries[4]!.action as { amount: string }).amount = '1'
    s.hashes[4] = hashAuditEntry(s.entries[4]!)
    expect(verifyAuditSlice(s)).toMatchObject({ ok: false, code: 'audit_checkpoint_mismatch', seq: 9 })
  })

  it('finds a broken link between neighbours and a forged checkpoint', () => {
    const s = slice()
    s.entries[1]!.prevHash = `0x${'00'.repeat(32)}`
    s.hashes[1] = undefined
    expect(verifyAuditSlice(s)).toMatchObject({ ok: false, code: 'audit_prev_hash_mismatch', seq: 2 })
    const t = slice()
    t.checkpoints[0] = { ...t.checkpoints[0]!, signature: `0x${'11'.repeat(64)}` }
    expect(verifyAuditSlice(t)).toMatchObject({ ok: false, code: 'audit_checkpoint_invalid' })
  })
  it('chains41: a chain label that is not a chain id is malformed; labels name chains, a slice without them is the root\'s', () => {
    expect(verifyAuditSlice({ ...slice(), chains: ['', 'B', '', '', ''] })).toMatchObject({ ok: false, code: 'audit_malformed', seq: 2 })
    expect(verifyAuditSlice({ ...slice(), chains: ['', '', '', '', ''] })).toMatchObject({ ok: true, unvouched: [6], unvouchedChains: [''] })
    // The root's checkpoints do not sign a chain: the same entries under a chain label are served as another chain's.
    expect(verifyAuditSlice({ ...slice(), chains: Array(5).fill('ab'.repeat(16)) })).toMatchObject({ ok: false, code: 'audit_chain_mismatch', seq: 1 })
  })
})

