import { ed25519 } from '@noble/curves/ed25519.js'
import { describe, expect, it } from 'vitest'
import type { AuditEntry } from '../../shared/audit/auditEntry.js'
import { auditCheckpointMessage } from '../../shared/audit/auditCheckpointMessage.js'
import { GENESIS_HASH } from '../../shared/audit/hashAuditEntry.js'
import { mockAuditBody, mockAuditLog } from '../../shared/audit/mockAuditLog.js'
import { verifyAuditLog } from '../../shared/audit/verifyAuditLog.js'
import { AuditChain, continueThread } from './AuditChain.js'

const reference = mockAuditLog({ n: 12, checkpointEvery: 4, threads: true })
const WALLET = mockAuditBody(0).wallet as string
const signer = reference.signer

describe('AuditChain', () => {
  it('builds the same chain as an independent construction, and verifyAuditLog accepts it', () => {
    const chain = new AuditChain({ signer })
    expect(chain.head()).toEqual({ seq: -1, hash: GENESIS_HASH })
    const entries: AuditEntry[] = []
    const checkpoints = []
    for (let i = 0; i < 12; i++) {
      const { entry, hash } = chain.append(mockAuditBody(i))
      entries.push(entry)
      expect(hash).toBe(reference.hashes[i])
      if ((i + 1) % 4 === 0) checkpoints.push(chain.checkpoint(entry.time + 1))
    }
    expect(entries).toEqual(reference.entries)
    expect(checkpoints).toEqual(reference.checkpoints) // Ed25519 is deterministic
    expect(chain.head()).toEqual({ seq: 11, hash: reference.hashes[11] })
    expect(verifyAuditLog({ entries, checkpoints, publicKey: reference.publicKeyHex }).ok).toBe(true)
  })

  it('signs checkpoints that an independent Ed25519 implementation verifies', () => {
    const chain = new AuditChain({ signer })
    chain.append(mockAuditBody(0))
    const cp = chain.checkpoint(42)
    expect(cp).toMatchObject({ seq: 0, head: reference.hashes[0], time: 42 })
    const ok = ed25519.verify(Buffer.from(cp.signature.slice(2), 'hex'), auditCheckpointMessage(cp), Buffer.from(reference.publicKeyHex, 'hex'))
    expect(ok).toBe(true)
  })

  it('threads each wallet: walletSeq 1, 2, … per wallet and walletPrev = that wallet\'s previous entry hash; wallet-less entries carry none', () => {
    const chain = new AuditChain({ signer })
    const W2 = '0x3333333333333333333333333333333333333333'
    const a = chain.append(mockAuditBody(0))
    const b = chain.append({ ...mockAuditBody(1), wallet: W2 })
    const none = chain.append({ ...mockAuditBody(2), wallet: null })
    const c = chain.append({ ...mockAuditBody(3), wallet: WALLET.toUpperCase().replace('0X', '0x') })
    expect(a.entry).toMatchObject({ walletSeq: 1, walletPrev: GENESIS_HASH })
    expect(b.entry).toMatchObject({ walletSeq: 1, walletPrev: GENESIS_HASH })
    expect(none.entry).not.toHaveProperty('walletSeq')
    expect(none.entry).not.toHaveProperty('walletPrev')
    expect(c.entry).toMatchObject({ walletSeq: 2, walletPrev: a.hash }) // one thread per address, whatever its case
    expect(chain.thread(W2)).toEqual({ walletSeq: 1, hash: b.hash })
  })

  it('refuses a body that does not match the schema, and a checkpoint of an empty chain', () => {
    const chain = new AuditChain({ signer })
    expect(() => chain.append({ ...mockAuditBody(0), reason: 'x'.repeat(281) })).toThrow(expect.objectContaining({ code: 'audit_bad_entry' }))
    expect(chain.head().seq).toBe(-1) // nothing appended
    expect(() => chain.checkpoint(1)).toThrow(expect.objectContaining({ code: 'audit_chain_empty' }))
  })

  it('restores from its head (JSON round trip) and continues the same chain; refuses a malformed head', () => {
    const chain = new AuditChain({ signer })
    for (let i = 0; i < 5; i++) chain.append(mockAuditBody(i))
    const restored = new AuditChain({ head: JSON.parse(JSON.stringify(chain.head())), threads: [[WALLET.toLowerCase(), JSON.parse(JSON.stringify(chain.thread(WALLET)))]], signer })
    expect(restored.append(mockAuditBody(5)).hash).toBe(reference.hashes[5])
    // Without the wallet's thread head (a blob from before threads) the wallet's thread starts again at 1.
    expect(new AuditChain({ head: chain.head(), signer }).append(mockAuditBody(5)).entry).toMatchObject({ walletSeq: 1, walletPrev: GENESIS_HASH })
    expect(() => new AuditChain({ head: { seq: 3 } as never, signer })).toThrow(expect.objectContaining({ code: 'audit_bad_entry' }))
  })

  it('resumes from the entries after a snapshot head, and refuses a gap or a broken link', () => {
    const head = { seq: 3, hash: reference.hashes[3] as string }
    const threads = [[WALLET.toLowerCase(), { walletSeq: 4, hash: reference.hashes[3] as string }]] as const
    const after = reference.entries.slice(4)
    const resumed = new AuditChain({ head, threads, signer })
    expect(resumed.resumeFrom(after)).toEqual({ seq: 11, hash: reference.hashes[11] })
    expect(resumed.thread(WALLET)).toEqual({ walletSeq: 12, hash: reference.hashes[11] }) // the thread head moved with the tail
    // A wallet blob sealed after the core's head: the entries it holds (walletSeq ≤ its head) pass; the rest continue it.
    const ahead = new AuditChain({ head, threads: [[WALLET.toLowerCase(), { walletSeq: 8, hash: reference.hashes[7] as string }, 7]], signer })
    expect(ahead.resumeFrom(after)).toEqual({ seq: 11, hash: reference.hashes[11] })
    expect(ahead.thread(WALLET)).toEqual({ walletSeq: 12, hash: reference.hashes[11] })
    // A thread head that the tail does not continue (another lineage's blob): refused.
    const foreign = new AuditChain({ head, threads: [[WALLET.toLowerCase(), { walletSeq: 4, hash: `0x${'ab'.repeat(32)}` }]], signer })
    expect(() => foreign.resumeFrom(after)).toThrow(expect.objectContaining({ code: 'audit_resume_mismatch' }))

    // Without the blob's seal seq nothing counts as held: the tail must continue the head exactly.
    expect(() => new AuditChain({ head, threads: [[WALLET.toLowerCase(), { walletSeq: 8, hash: reference.hashes[7] as string }]], signer }).resumeFrom(after)).toThrow(expect.objectContaining({ code: 'audit_resume_mismatch' }))

    const gap = new AuditChain({ head, threads, signer })
    expect(() => gap.resumeFrom([after[0]!, after[2]!])).toThrow(expect.objectContaining({ code: 'audit_resume_gap' }))
    expect(gap.head()).toEqual(head) // all or nothing
    expect(() => gap.resumeFrom(reference.entries.slice(3))).toThrow(expect.objectContaining({ code: 'audit_resume_gap' }))

    const edited = structuredClone(after)
    edited[1]!.reason = 'rewritten by the host'
    expect(() => new AuditChain({ head, threads, signer }).resumeFrom(edited)).toThrow(expect.objectContaining({ code: 'audit_resume_mismatch' }))
    const otherBranch = mockAuditLog({ n: 12, seedByte: 1 })
    otherBranch.entries.length = 0
    for (let i = 0; i < 6; i++) otherBranch.append({ reason: `other ${i}` })
    expect(() => new AuditChain({ head, threads, signer }).resumeFrom(otherBranch.entries.slice(4))).toThrow(
      expect.objectContaining({ code: 'audit_resume_mismatch' }),
    )
  })

  /**
   * Attack (NOTES, stop 30): a splice of two forks. After a rollback the host holds two forks sharing entries up to
   * seq 5; it hands the core (head seq 3) with the wallet's blob of fork 1 (sealed at seq 7, thread head walletSeq 8)
   * and the tail of fork 2 up to seq 7. Every entry chains from the core's head, and the wallet's fork-2 entries at
   * seqs 6 and 7 are "held by the blob" by walletSeq alone: before the fix they passed unhashed and, with no later
   * entry of the wallet in the tail, the load mixed fork 1's wallet with fork 2's chain. Now the entry at the blob's
   * head must hash to it: refused at once.
   */
  it('spliceOfTwoForks: a tail from another fork under a wallet blob sealed inside it is refused at the blob\'s head', () => {
    const head = { seq: 3, hash: reference.hashes[3] as string }
    const sealed = [[WALLET.toLowerCase(), { walletSeq: 8, hash: reference.hashes[7] as string }, 7]] as const
    const fork2 = new AuditChain({ head: { seq: 5, hash: reference.hashes[5] as string }, threads: [[WALLET.toLowerCase(), { walletSeq: 6, hash: reference.hashes[5] as string }]], signer })
    const spliced = [...reference.entries.slice(4, 6), ...[6, 7].map((i) => fork2.append({ ...mockAuditBody(i), reason: `fork 2, ${i}` }).entry)]
    expect(spliced.map((e) => e.seq)).toEqual([4, 5, 6, 7])
    expect(spliced[3]!.walletSeq).toBe(8)
    const chain = new AuditChain({ head, threads: sealed, signer })
    expect(() => chain.resumeFrom(spliced)).toThrow(expect.objectContaining({ code: 'audit_resume_mismatch' }))
    expect(chain.head()).toEqual(head) // all or nothing
    // The quieter splice: fork 2's entries after seq 5 name another wallet, so no entry of the wallet reaches the
    // blob's head and none follows it in the tail. At the blob's seal seq the wallet's last entry seen must be the head.
    const other = `0x${'3'.repeat(40)}`
    const fork2b = new AuditChain({ head: { seq: 5, hash: reference.hashes[5] as string }, signer })
    const quiet = [...reference.entries.slice(4, 6), ...[6, 7].map((i) => fork2b.append({ ...mockAuditBody(i), wallet: other }).entry)]
    expect(quiet.map((e) => e.seq)).toEqual([4, 5, 6, 7])
    expect(() => new AuditChain({ head, threads: sealed, signer }).resumeFrom(quiet)).toThrow(expect.objectContaining({ code: 'audit_resume_mismatch' }))
    // The same, handed in two chunks (replayEntries sends the tail in frames): still refused at the seal seq.
    const chunked = new AuditChain({ head, threads: sealed, signer })
    chunked.resumeFrom(quiet.slice(0, 2))
    expect(() => chunked.resumeFrom(quiet.slice(2))).toThrow(expect.objectContaining({ code: 'audit_resume_mismatch' }))
    // The honest tail over the same blob passes, and continues after the blob's seal.
    expect(new AuditChain({ head, threads: sealed, signer }).resumeFrom(reference.entries.slice(4))).toEqual({ seq: 11, hash: reference.hashes[11] })
    // After the blob's seal only the exact continuation: an entry past it that repeats a walletSeq is refused.
    const back = structuredClone(reference.entries.slice(4, 9))
    expect(() => new AuditChain({ head, threads: [[WALLET.toLowerCase(), { walletSeq: 8, hash: reference.hashes[7] as string }, 6]], signer }).resumeFrom(back)).toThrow(expect.objectContaining({ code: 'audit_resume_mismatch' }))
  })

  it('continueThread (loadWallet): a tail from another chain must continue the wallet\'s thread exactly', () => {
    const from = { walletSeq: 4, hash: reference.hashes[3] as string }
    const w = WALLET.toLowerCase()
    expect(continueThread(from, w, reference.entries.slice(4, 8))).toEqual({ walletSeq: 8, hash: reference.hashes[7] })
    expect(continueThread(from, w, [])).toEqual(from)
    expect(() => continueThread(from, w, [reference.entries[4]!, reference.entries[6]!])).toThrow(expect.objectContaining({ code: 'audit_resume_mismatch' })) // one skipped
    // Entries the blob holds (before and at its head) are passed; the one at the head must hash to it.
    expect(continueThread(from, w, reference.entries.slice(1, 8))).toEqual({ walletSeq: 8, hash: reference.hashes[7] })
    const heldEdited = structuredClone(reference.entries.slice(3, 8))
    heldEdited[0]!.reason = 'another fork'
    expect(() => continueThread(from, w, heldEdited)).toThrow(expect.objectContaining({ code: 'audit_resume_mismatch' }))
    expect(() => continueThread(from, w, [...reference.entries.slice(4, 6), reference.entries[3]!])).toThrow(expect.objectContaining({ code: 'audit_resume_mismatch' })) // held, after the continuation began
    expect(() => continueThread(from, `0x${'2'.repeat(40)}`, reference.entries.slice(4, 8))).toThrow(expect.objectContaining({ code: 'audit_resume_mismatch' })) // another wallet's
    const edited = structuredClone(reference.entries.slice(4, 8))
    edited[1]!.reason = 'rewritten'
    expect(() => continueThread(from, w, edited)).toThrow(expect.objectContaining({ code: 'audit_resume_mismatch' }))
  })
})
