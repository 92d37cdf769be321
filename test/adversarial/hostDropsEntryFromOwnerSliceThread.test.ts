import { describe, expect, it } from 'vitest'
import { mockAuditLog } from '../../shared/audit/mockAuditLog.js'
import { verifyAuditSlice } from '../../shared/audit/verifyAuditSlice.js'

/**
 * Attack (issue 15 step 2, rt30a): the console's Audit & trust tab verifies an owner's slice (the owner's wallets'
 * entries, other wallets' seqs left out) with verifyAuditSlice. Wallet threads were built so that such a slice shows
 * a removed entry, but the slice verifier never read walletSeq/walletPrev: the host drops one payment of the owner's
 * wallet A (between two of B's entries, so no prevHash link spans it) and the tab said OK. Defined outcome: each
 * wallet's thread in the slice must continue (walletSeq +1, walletPrev = the previous entry's hash; a slice may begin
 * mid-thread) — a dropped, repeated or reordered entry is audit_thread_broken — and an entry a signed later entry of
 * its thread links to (walletPrev) counts as vouched.
 */
describe('adversarial: the host drops an entry from an owner slice\'s wallet thread', () => {
  const A = '0x1111111111111111111111111111111111111111'
  const B = '0x2222222222222222222222222222222222222222'
  const C = '0x3333333333333333333333333333333333333333' // another owner's wallet: absent from the slice
  const log = mockAuditLog({ n: 30, checkpointEvery: 5, threads: true, wallets: [A, C, B, C] })
  const slice = log.entries.flatMap((e, i) => (e.wallet === A || e.wallet === B ? [{ e, h: log.hashes[i]! }] : []))
  const seqs = new Set(slice.map((x) => x.e.seq))
  const checkpoints = log.checkpoints.filter((c) => seqs.has(c.seq))
  const verify = (xs: typeof slice) => verifyAuditSlice({ entries: xs.map((x) => x.e), hashes: xs.map((x) => x.h), checkpoints, publicKey: log.publicKeyHex })

  it('the honest slice verifies; thread links vouch for entries no checkpoint sits on', () => {
    const r = verify(slice)
    expect(r).toMatchObject({ ok: true, count: slice.length })
    // The last signed entries of A and B vouch, through walletPrev, for each wallet's thread before them.
    // (A and B never sit at adjacent seqs here, so no prevHash link vouches for anything.)
    const lastSigned = (w: string) => Math.max(-1, ...checkpoints.filter((c) => slice.find((x) => x.e.seq === c.seq)!.e.wallet === w).map((c) => c.seq))
    const expected = slice.filter((x) => x.e.seq > lastSigned(x.e.wallet!)).map((x) => x.e.seq)
    expect(expected.length).toBeLessThan(slice.length / 2)
    if (r.ok) expect(r.unvouched).toEqual(expected)
  })

  it('one entry of A dropped (no prevHash link spans it) → audit_thread_broken', () => {
    const iA = slice.findIndex((x, i) => i > 2 && x.e.wallet === A)
    const dropped = slice.filter((_, i) => i !== iA)
    const next = dropped.slice(iA).find((x) => x.e.wallet === A)!
    expect(verify(dropped)).toMatchObject({ ok: false, code: 'audit_thread_broken', seq: next.e.seq })
  })

  it('a slice that begins mid-thread still verifies (a page after a cursor)', () => {
    expect(verify(slice.slice(5))).toMatchObject({ ok: true })
  })
})
