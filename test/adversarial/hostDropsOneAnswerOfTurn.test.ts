import { createPublicKey, generateKeyPairSync, sign } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { AuditChain } from '../../core/audit/AuditChain.js'
import type { AuditCheckpoint, AuditEntry, AuditEntryBody } from '../../shared/audit/auditEntry.js'
import { toAuditJsonl } from '../../shared/audit/exportFormats.js'
import { verifyAuditJsonl } from '../../shared/audit/verifyAuditJsonl.js'
import { verifyAuditLog } from '../../shared/audit/verifyAuditLog.js'
import { verifyReceipt } from '../../shared/audit/verifyReceipt.js'
import { verifyWalletThread } from '../../shared/audit/verifyWalletThread.js'

const A = '0x1111111111111111111111111111111111111111'
const B = '0x2222222222222222222222222222222222222222'

/**
 * turn18, the verifiers (reference, fast path, one wallet, receipts) on logs whose checkpoints are turn checkpoints:
 * each at its own block's entry, the turn's one signature over the Merkle root of the turn's heads. The enclave's own
 * AuditChain writes turns whose answers alternate between two wallets; then a host
 *  - drops one answer of a turn (its entry and checkpoint) from the middle: the whole log breaks there (reference and
 *    fast path agree), the wallet's one-wallet export is thread-broken, the turn's other answers keep verifying;
 *  - cuts the last turn's last answer (entry and checkpoint) from a one-wallet export: the receipt the agent holds
 *    shows it (receipt_entry_missing), the thread verifies signed through the entry before;
 *  - moves a turn checkpoint onto another seq of the export (another turn's entry, or a turn sibling's): invalid.
 * And honestly: each wallet's one-wallet export is signed through its last entry, every receipt verifies on it.
 */
describe('adversarial: the host drops or moves one answer of a turn (turn checkpoints, verifiers)', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519')
  const pub = createPublicKey(privateKey).export({ format: 'der', type: 'spki' }).toString('hex')
  const chain = new AuditChain({ signer: (m) => sign(null, m, privateKey) })
  const entries: AuditEntry[] = []
  const hashes: string[] = []
  const checkpoints: AuditCheckpoint[] = []
  let t = 0
  for (const size of [1, 5, 4, 6, 3]) {
    const heads = Array.from({ length: size }, () => {
      const wallet = t % 2 ? B : A
      const r = chain.append({ time: 1_767_225_600_000 + t, stateVersion: 1, event: 'sign_denied', verdict: 'deny', wallet, agentId: null, action: null,
        reason: `answer ${t++}`, policy: null, rule: null, code: 'policy_denied', signedHash: null, requestId: null, ledger: [] } as AuditEntryBody)
      entries.push(r.entry)
      hashes.push(r.hash)
      return { seq: r.entry.seq, hash: r.hash }
    })
    checkpoints.push(...chain.turnCheckpoints(1_767_225_700_000 + t, heads))
  }
  const receipt = (seq: number) => ({ seq, walletSeq: entries[seq]!.walletSeq, entryHash: hashes[seq]!, checkpoint: checkpoints[seq]! })
  const ofWallet = (w: string, drop = new Set<number>()) => {
    const keep = entries.flatMap((e, i) => (e.wallet === w && !drop.has(i) ? [i] : []))
    return { entries: keep.map((i) => entries[i]!), hashes: keep.map((i) => hashes[i]!), checkpoints: keep.map((i) => checkpoints[i]!) }
  }
  const jsonl = (p: { entries: AuditEntry[]; hashes: string[]; checkpoints: AuditCheckpoint[] }) => toAuditJsonl(p)

  it('honest: the whole log verifies (reference and fast path); each wallet is signed through its last entry; every receipt verifies', () => {
    expect(checkpoints.filter((c) => c.signature.includes('.')).length).toBe(entries.length - 1) // all but the one-block turn
    expect(new Set(checkpoints.map((c) => c.signature.split('.')[0])).size).toBe(5) // one signature per turn
    const whole = { entries, hashes, checkpoints, publicKey }
    expect(verifyAuditLog(whole)).toMatchObject({ ok: true, signedHead: { seq: entries.length - 1 } })
    expect(verifyAuditJsonl({ jsonl: jsonl(whole), publicKey })).toMatchObject({ ok: true, signedHead: { seq: entries.length - 1 } })
    for (const w of [A, B]) {
      const x = ofWallet(w)
      const v = verifyWalletThread({ wallet: w, ...x, publicKey: pub, receipts: x.entries.map((e) => receipt(e.seq)) })
      expect(v).toMatchObject({ ok: true })
      if (v.ok) expect(v.signedThrough?.seq).toBe(x.entries.at(-1)!.seq)
      for (const e of x.entries) expect(verifyReceipt({ receipt: receipt(e.seq), entries: x.entries, publicKey: pub })).toMatchObject({ ok: true })
    }
  })

  it('one answer of a turn dropped from the middle: the log breaks there, the wallet’s thread breaks, the turn’s other answers still verify', () => {
    const gone = 8 // in the 4-block turn (seqs 6…9)
    const keep = entries.map((_, i) => i).filter((i) => i !== gone)
    const cut = { entries: keep.map((i) => entries[i]!), hashes: keep.map((i) => hashes[i]!), checkpoints: keep.map((i) => checkpoints[i]!), publicKey }
    const ref = verifyAuditLog(cut)
    expect(ref).toMatchObject({ ok: false, seq: gone })
    expect(verifyAuditJsonl({ jsonl: jsonl(cut), publicKey })).toEqual(ref)
    const w = entries[gone]!.wallet!
    expect(verifyWalletThread({ wallet: w, ...ofWallet(w, new Set([gone])), publicKey: pub })).toMatchObject({ ok: false, code: 'audit_thread_broken' })
    for (const i of [6, 7, 9]) expect(verifyReceipt({ receipt: receipt(i), entries: cut.entries, publicKey: pub })).toMatchObject({ ok: true })
  })

  it('the last answer of the last turn cut from a one-wallet export: its receipt shows it; the thread is signed through the entry before', () => {
    const last = entries.length - 1, w = entries[last]!.wallet!
    const x = ofWallet(w, new Set([last]))
    const v = verifyWalletThread({ wallet: w, ...x, publicKey: pub })
    expect(v).toMatchObject({ ok: true })
    if (v.ok) expect(v.signedThrough?.seq).toBe(x.entries.at(-1)!.seq)
    expect(verifyWalletThread({ wallet: w, ...x, publicKey: pub, receipts: [receipt(last)] })).toMatchObject({ ok: false, code: 'receipt_entry_missing' })
  })

  it('a turn checkpoint moved onto another seq (a sibling’s in its turn, another turn’s entry): audit_checkpoint_invalid', () => {
    for (const [from, to] of [[7, 8], [3, 12]] as const) {
      const moved = checkpoints.map((c, i) => (i === to ? { ...checkpoints[from]!, seq: to, head: hashes[to]! } : c))
      const ref = verifyAuditLog({ entries, hashes, checkpoints: moved, publicKey })
      expect(ref).toMatchObject({ ok: false, code: 'audit_checkpoint_invalid', seq: to })
      expect(verifyAuditJsonl({ jsonl: jsonl({ entries, hashes, checkpoints: moved }), publicKey })).toEqual(ref)
      const w = entries[to]!.wallet!
      const x = ofWallet(w)
      expect(verifyWalletThread({ wallet: w, ...x, checkpoints: x.entries.map((e) => moved[e.seq]!), publicKey: pub })).toMatchObject({ ok: false, code: 'audit_checkpoint_invalid' })
      expect(verifyReceipt({ receipt: { ...receipt(to), checkpoint: moved[to]! }, entries, publicKey: pub })).toMatchObject({ ok: false })
    }
  })
})
