import { describe, expect, it } from 'vitest'
import { canonicalJson } from '../canonical/canonicalJson.js'
import type { AuditEntry } from './auditEntry.js'
import { toAuditJsonl, parseAuditJsonl } from './exportFormats.js'
import { GENESIS_HASH, hashAuditEntry, hashCanonicalAuditEntry } from './hashAuditEntry.js'
import { mockAuditLog } from './mockAuditLog.js'
import { fastVerifyAuditJsonl, verifyAuditJsonl } from './verifyAuditJsonl.js'
import { verifyAuditLog } from './verifyAuditLog.js'
import { verifyWalletThread } from './verifyWalletThread.js'

const A = '0x1111111111111111111111111111111111111111'
const B = '0x2222222222222222222222222222222222222222'
/** 30 entries over wallets A, B and none (every third: an enclave-level entry), a checkpoint every 5. */
const threaded = () => mockAuditLog({ n: 30, checkpointEvery: 5, threads: true, wallets: [A, B, A, null as unknown as string] })
const broken = (r: { ok: boolean; code?: string; seq?: number }) => (r.ok ? { ok: true } : { code: r.code, seq: r.seq })

/** Re-links every entry's prevHash and recorded hash (leaving thread fields as edited) and re-signs the checkpoints. */
function relink(entries: AuditEntry[]) {
  let prev = GENESIS_HASH
  const hashes: string[] = []
  const out = entries.map((e) => {
    const linked = { ...e, prevHash: prev }
    prev = hashCanonicalAuditEntry(prev, canonicalJson(linked))
    hashes.push(prev)
    return linked
  })
  return { entries: out, hashes, checkpoints: [] }
}

describe('wallet threads (issue 15 step 2)', () => {
  it('the thread fields are inside the entry hash: changing walletSeq or walletPrev changes it', () => {
    const e = threaded().entries[2]!
    expect(e).toMatchObject({ wallet: A, walletSeq: 2 })
    const h = hashAuditEntry(e)
    expect(hashAuditEntry({ ...e, walletSeq: 3 })).not.toBe(h)
    expect(hashAuditEntry({ ...e, walletPrev: GENESIS_HASH })).not.toBe(h)
    const { walletSeq: _s, walletPrev: _p, ...none } = e
    expect(hashAuditEntry(none)).not.toBe(h)
  })

  it('a threaded log verifies (reference and fast path, which takes it); editing a thread field breaks the global chain', () => {
    const log = threaded()
    expect(log.entries[3]).not.toHaveProperty('walletSeq') // wallet-less
    expect(log.entries.filter((e) => e.wallet === A).map((e) => e.walletSeq)).toEqual(Array.from({ length: 15 }, (_, i) => i + 1))
    expect(verifyAuditLog({ ...log, publicKey: log.publicKeyHex })).toMatchObject({ ok: true, count: 30 })
    const text = toAuditJsonl(log)
    expect(verifyAuditJsonl({ jsonl: text, publicKey: log.publicKeyHex })).toMatchObject({ ok: true, count: 30 })
    expect(fastVerifyAuditJsonl(Buffer.from(text), { publicKey: log.publicKeyHex })).toMatchObject({ ok: true, count: 30 })
    const edited = structuredClone(log.entries)
    edited[6]!.walletSeq = 5
    expect(broken(verifyAuditLog({ ...log, entries: edited, publicKey: log.publicKeyHex }))).toEqual({ code: 'audit_entry_modified', seq: 6 })
  })

  it('a re-linked global chain with a broken thread is audit_thread_broken (reference and fast path agree)', () => {
    const log = threaded()
    const cases: Array<[string, (es: AuditEntry[]) => void, number]> = [
      ['walletSeq skips', (es) => { es[6]!.walletSeq = 5 }, 6],
      ['walletPrev names another entry', (es) => { es[6]!.walletPrev = log.hashes[1] }, 6],
      ['an entry of A lacks its thread', (es) => { delete es[6]!.walletSeq; delete es[6]!.walletPrev }, 6],
      ['half a thread', (es) => { delete es[6]!.walletPrev }, 6],
      ['a wallet-less entry with a thread', (es) => { es[3]!.walletSeq = 1; es[3]!.walletPrev = GENESIS_HASH }, 3],
      ['first entry of B not at 1', (es) => { es[1]!.walletSeq = 2 }, 1],
    ]
    for (const [name, edit, seq] of cases) {
      const es = structuredClone(log.entries)
      edit(es)
      const linked = relink(es)
      const ref = verifyAuditLog({ ...linked, publicKey: log.publicKeyHex })
      expect(broken(ref), name).toEqual({ code: 'audit_thread_broken', seq })
      expect(verifyAuditJsonl({ jsonl: toAuditJsonl(linked), publicKey: log.publicKeyHex }), name).toEqual(ref)
    }
  })

  it('old logs: entries before the first threaded one carry no thread; each wallet starts at 1 after it', () => {
    const log = mockAuditLog({ n: 0, wallets: [A, B] })
    for (let i = 0; i < 4; i++) log.append() // written before threads: no walletSeq
    // Continue the same chain with threaded entries (a new enclave loaded the old state: threads start at 1).
    let prev = log.hashes[3]!
    const entries = [...log.entries]
    const hashes = [...log.hashes]
    const heads = new Map<string, [number, string]>()
    for (let i = 0; i < 4; i++) {
      const w = i % 2 === 0 ? A : B
      const [n, h] = heads.get(w) ?? [0, GENESIS_HASH]
      const e = { ...log.entries[i]!, wallet: w, seq: 4 + i, prevHash: prev, walletSeq: n + 1, walletPrev: h }
      prev = hashAuditEntry(e)
      heads.set(w, [n + 1, prev])
      entries.push(e)
      hashes.push(prev)
    }
    expect(entries.map((e) => e.walletSeq)).toEqual([undefined, undefined, undefined, undefined, 1, 1, 2, 2])
    expect(verifyAuditLog({ entries, hashes, publicKey: log.publicKeyHex })).toMatchObject({ ok: true, count: 8 })
    expect(verifyAuditJsonl({ jsonl: toAuditJsonl({ entries, hashes, checkpoints: [] }), publicKey: log.publicKeyHex })).toMatchObject({ ok: true, count: 8 })
    const one = verifyWalletThread({ wallet: A, entries, hashes, publicKey: log.publicKeyHex })
    expect(one).toMatchObject({ ok: true, complete: true, unthreaded: 2 })
    expect(one.ok && one.thread.map((t) => t.walletSeq)).toEqual([1, 2])
  })

  describe('one-wallet export (verifyWalletThread)', () => {
    const log = threaded()
    const exportOf = (wallet: string) => {
      const text = toAuditJsonl(log)
        .trimEnd()
        .split('\n')
        .filter((l) => {
          const o = JSON.parse(l) as { type: string; wallet?: string | null; seq: number }
          return o.type === 'entry' ? o.wallet === wallet : log.entries[o.seq]?.wallet === wallet
        })
      return parseAuditJsonl(text.join('\n'))
    }

    it('verifies by walletPrev links alone; checkpoints at its seqs say how far the enclave vouches', () => {
      const a = exportOf(A)
      expect(a.entries).toHaveLength(15)
      const r = verifyWalletThread({ wallet: A, ...a, publicKey: log.publicKeyHex })
      expect(r).toMatchObject({ ok: true, complete: false, unthreaded: 0 })
      if (!r.ok) return
      expect(r.thread.map((t) => t.walletSeq)).toEqual(Array.from({ length: 15 }, (_, i) => i + 1))
      // Checkpoints at seqs 4, 9, 14, 19, 24, 29; A's entries are at seqs 0, 2, 4, 6, 8, …: the last of A's at a checkpoint is 24.
      expect(r.signedThrough).toMatchObject({ seq: 24, walletSeq: 13 })
      // The whole log, filtered by the verifier: complete, same thread.
      const whole = verifyWalletThread({ wallet: A.toUpperCase().replace('0X', '0x'), ...parseAuditJsonl(toAuditJsonl(log)), publicKey: log.publicKeyHex })
      expect(whole).toMatchObject({ ok: true, complete: true, signedThrough: { seq: 28, walletSeq: 15 } })
    })

    it('a dropped, reordered or duplicated entry of the wallet is audit_thread_broken', () => {
      const a = exportOf(A)
      const variants: Array<[string, number[]]> = [
        ['dropped', [0, 1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]],
        ['dropped first', [1, 2, 3, 4]],
        ['reordered', [0, 1, 3, 2, 4, 5]],
        ['duplicated', [0, 1, 2, 2, 3, 4]],
      ]
      for (const [name, order] of variants) {
        const r = verifyWalletThread({ wallet: A, entries: order.map((i) => a.entries[i]!), hashes: order.map((i) => a.hashes[i]), checkpoints: a.checkpoints, publicKey: log.publicKeyHex })
        expect(r.ok ? 'ok' : r.code, name).toBe('audit_thread_broken')
      }
      // A rewritten entry: its recorded hash no longer matches; re-hashed, the next entry's walletPrev does not.
      const rewritten = structuredClone(a.entries)
      rewritten[5]!.reason = 'rewritten'
      expect(broken(verifyWalletThread({ wallet: A, entries: rewritten, hashes: a.hashes, publicKey: log.publicKeyHex }))).toEqual({ code: 'audit_entry_modified', seq: 10 })
      expect(broken(verifyWalletThread({ wallet: A, entries: rewritten, publicKey: log.publicKeyHex }))).toEqual({ code: 'audit_thread_broken', seq: 12 })
      // A forged checkpoint is refused; a genuine one at another head than the entry's is a mismatch.
      const cp = a.checkpoints[0]!
      expect(broken(verifyWalletThread({ wallet: A, ...a, checkpoints: [{ ...cp, time: cp.time + 1 }], publicKey: log.publicKeyHex }))).toEqual({ code: 'audit_checkpoint_invalid', seq: cp.seq })
    })
  })
})
