import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AuditEntry } from '../../shared/audit/auditEntry.js'
import { PROTOCOL_VERSION } from '../../shared/protocol/messages.js'
import { type SealedSnapshot, hasSignature, refusalCode } from '../helpers/maliciousHost.js'
import { AMOUNT, CAP, type TwoWallets, blobOf, startWithTwoWallets } from '../helpers/twoWallets.js'

const seqOf = (t: string) => (JSON.parse(t) as AuditEntry).seq

/**
 * Attack (issue 15, per-wallet sealed blobs): wallet A spends up to its cap; the host then restarts the enclave
 * handing the newest core blob and B's newest blob, but an OLDER blob of A (from before the spends), hoping A's
 * budget comes back while everything else looks current. Defined outcome: the core names A's newest blob (version
 * and SHA-256): state_wallet_stale, nothing loads. Handing the older core with it (a consistent older set) does not
 * help either: the MAC'd, chained tail after that core rebuilds A's spends, and an owner act in it proves the
 * rollback (state_rollback_detected). Only cutting the tail's end is left: the existing high-water-mark story.
 */
describe('adversarial: the host rolls back one wallet\'s sealed blob', () => {
  let t: TwoWallets
  let old: SealedSnapshot
  let newest: SealedSnapshot
  let ownerActSeq: number

  beforeAll(async () => {
    t = await startWithTwoWallets()
    old = t.host.latestSnapshot()!
    await t.host.waitAgentFloor()
    for (let i = 0n; i < CAP / AMOUNT; i++) await t.payOk(t.a)
    expect(refusalCode(await t.host.agentSign(t.pay(t.a)))).toBe('policy_daily_cap_exceeded')
    // An owner act on B seals the changed wallets (A's spends) and the core.
    expect((await t.host.walletAct(t.owner, 'FreezeAgent', t.b.wallet, { agentId: t.b.agent.agentId, frozen: false })).ok).toBe(true)
    newest = t.host.latestSnapshot()!
    ownerActSeq = newest.auditSeq
    expect(newest.wallets?.map((w) => w.wallet)).toContain(t.a.wallet)
    expect(Buffer.from(blobOf(t.host, newest, t.a.wallet)).equals(blobOf(t.host, old, t.a.wallet))).toBe(false)
  })
  afterAll(async () => {
    await t?.host.stop()
  })

  it('newest core + B\'s newest blob + an older blob of A → state_wallet_stale; nothing loads, nothing signs', async () => {
    await t.host.restartEnclave()
    expect((await t.host.call({ type: 'hello', protocolVersion: PROTOCOL_VERSION })).ok).toBe(true)
    const wallets = [{ wallet: t.a.wallet, blob: blobOf(t.host, old, t.a.wallet) }, { wallet: t.b.wallet, blob: blobOf(t.host, newest, t.b.wallet) }]
    expect(refusalCode(await t.host.call({ type: 'loadState', snapshot: newest.blob, wallets }))).toBe('state_wallet_stale')
    expect(refusalCode(await t.host.call({ type: 'finishLoad' }))).not.toMatch(/^UNEXPECTED_OK/)
    const r = await t.host.agentSign(t.pay(t.a))
    expect(refusalCode(r)).toBe('enclave_not_ready')
    expect(hasSignature(r)).toBe(false)
  })

  // Each case in a fresh process: the sim sealer also refuses a core older than one it already unsealed
  // (seal_version_rollback), which a restarted process has not.
  it('an older core with A\'s newest blob (newer than that core names) → state_wallet_stale', async () => {
    await t.host.restartEnclave()
    expect((await t.host.call({ type: 'hello', protocolVersion: PROTOCOL_VERSION })).ok).toBe(true)
    const wallets = [{ wallet: t.a.wallet, blob: blobOf(t.host, newest, t.a.wallet) }, { wallet: t.b.wallet, blob: blobOf(t.host, old, t.b.wallet) }]
    expect(refusalCode(await t.host.call({ type: 'loadState', snapshot: old.blob, wallets }))).toBe('state_wallet_stale')
  })

  it('the older consistent set with the full tail: the owner act in the tail proves the rollback → state_rollback_detected', async () => {
    await t.host.restartEnclave()
    const tail = t.host.entries.filter((e) => seqOf(e) > old.auditSeq && seqOf(e) <= ownerActSeq)
    const { last } = await t.host.bootstrap({ snapshot: old.blob, entries: tail })
    expect(refusalCode(last)).toBe('state_rollback_detected')
  })

  it('the older consistent set with the tail up to the owner act: the tail rebuilds A\'s spends, A stays at its cap', async () => {
    await t.host.restartEnclave()
    const tail = t.host.entries.filter((e) => seqOf(e) > old.auditSeq && seqOf(e) < ownerActSeq)
    expect(tail.length).toBeGreaterThanOrEqual(Number(CAP / AMOUNT))
    const { last } = await t.host.bootstrap({ snapshot: old.blob, entries: tail })
    expect(last.ok).toBe(true)
    await t.host.waitAgentFloor()
    const r = await t.host.agentSign(t.pay(t.a))
    expect(refusalCode(r)).toBe('policy_daily_cap_exceeded')
    expect(hasSignature(r)).toBe(false)
    await t.payOk(t.b) // B unaffected
  })

  it('the honest newest set: A stays at its cap, B serves', async () => {
    await t.host.restartEnclave()
    const tail = t.host.entries.filter((e) => seqOf(e) > newest.auditSeq && seqOf(e) <= ownerActSeq)
    const { last } = await t.host.bootstrap({ snapshot: newest.blob, entries: tail })
    expect(last.ok).toBe(true)
    await t.host.waitAgentFloor()
    expect(refusalCode(await t.host.agentSign(t.pay(t.a)))).toBe('policy_daily_cap_exceeded')
    await t.payOk(t.b)
  })
})
