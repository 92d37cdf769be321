import { sign } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import type { AuditCheckpoint, AuditEntry } from './auditEntry.js'
import { auditCheckpointMessage } from './auditCheckpointMessage.js'
import { hashAuditEntry } from './hashAuditEntry.js'
import { mockAuditLog, mockEd25519Key } from './mockAuditLog.js'
import { verifyAuditLog } from './verifyAuditLog.js'

// 30 entries (seq 0..29), a signed checkpoint after every 5th (seq 4, 9, …, 29).
const fresh = () => mockAuditLog({ n: 30, checkpointEvery: 5 })
const clone = <T>(v: T): T => structuredClone(v)

function verify(log: { entries: AuditEntry[]; hashes?: (string | undefined)[]; checkpoints: AuditCheckpoint[] }, extra = {}) {
  return verifyAuditLog({ publicKey: fresh().publicKeyHex, ...log, ...extra })
}
const broken = (r: ReturnType<typeof verifyAuditLog>) => (r.ok ? { ok: true } : { code: r.code, seq: r.seq })

describe('verifyAuditLog', () => {
  it('accepts an intact log and reports its head and signed head', () => {
    const log = fresh()
    const r = verify(log)
    expect(r).toEqual({
      ok: true,
      head: { seq: 29, hash: log.hashes[29] },
      signedHead: { seq: 29, hash: log.hashes[29] },
      count: 30,
    })
  })

  it('accepts the key as raw hex, 0x hex, SPKI DER bytes and PEM', () => {
    const log = fresh()
    const { privateKey, publicKeyHex } = mockEd25519Key()
    void privateKey
    const spki = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(publicKeyHex, 'hex')])
    const pem = `-----BEGIN PUBLIC KEY-----\n${spki.toString('base64')}\n-----END PUBLIC KEY-----\n`
    for (const publicKey of [publicKeyHex, `0x${publicKeyHex}`, spki, spki.toString('hex'), pem])
      expect(verifyAuditLog({ ...log, publicKey }).ok).toBe(true)
    expect(() => verifyAuditLog({ ...log, publicKey: 'zz' })).toThrow(/Ed25519/)
  })

  it('accepts an empty log', () => {
    expect(verify({ entries: [], checkpoints: [] })).toMatchObject({ ok: true, head: { seq: -1 }, signedHead: null, count: 0 })
  })

  it('detects dropped last entries (truncation before a checkpoint) at the first missing seq', () => {
    const log = fresh()
    expect(broken(verify({ ...log, entries: log.entries.slice(0, 25), hashes: log.hashes.slice(0, 25) }))).toEqual({
      code: 'audit_truncated',
      seq: 25,
    })
  })

  it('detects truncation against an expected head even when the host drops the checkpoints too', () => {
    const log = fresh()
    const cut = { entries: log.entries.slice(0, 22), hashes: log.hashes.slice(0, 22), checkpoints: log.checkpoints.slice(0, 4) }
    expect(verify(cut).ok).toBe(true) // nothing in the log itself betrays it…
    expect(broken(verify(cut, { expectedHead: { seq: 29, hash: log.hashes[29] } }))).toEqual({ code: 'audit_truncated', seq: 22 })
  })

  it('detects one entry dropped in the middle', () => {
    const log = fresh()
    log.entries.splice(12, 1)
    log.hashes.splice(12, 1)
    expect(broken(verify(log))).toEqual({ code: 'audit_sequence_gap', seq: 12 })
  })

  it('detects a middle drop whose tail the host renumbered and rehashed at the next signed head', () => {
    const log = fresh()
    log.entries.splice(12, 1)
    let prev = log.hashes[11] as string
    log.entries.forEach((e, i) => {
      if (i < 12) return
      e.seq = i
      e.prevHash = prev
      prev = hashAuditEntry(e)
    })
    expect(broken(verify({ entries: log.entries, checkpoints: log.checkpoints }))).toEqual({
      code: 'audit_checkpoint_mismatch',
      seq: 14,
    })
  })

  it('detects two swapped entries', () => {
    const log = fresh()
    ;[log.entries[7], log.entries[8]] = [log.entries[8] as AuditEntry, log.entries[7] as AuditEntry]
    ;[log.hashes[7], log.hashes[8]] = [log.hashes[8] as string, log.hashes[7] as string]
    expect(broken(verify(log))).toEqual({ code: 'audit_out_of_order', seq: 7 })
  })

  it('detects two swapped entries whose seq numbers were swapped back', () => {
    const log = fresh()
    const [a, b] = [clone(log.entries[7]) as AuditEntry, clone(log.entries[8]) as AuditEntry]
    ;[a.seq, b.seq] = [8, 7]
    log.entries[7] = b
    log.entries[8] = a
    expect(broken(verify({ entries: log.entries, checkpoints: log.checkpoints }))).toEqual({
      code: 'audit_prev_hash_mismatch',
      seq: 7,
    })
  })

  it('detects an edited field at its own seq from the recorded hash', () => {
    const log = fresh()
    ;(log.entries[10] as AuditEntry).reason = 'nothing to see here'
    expect(broken(verify(log))).toEqual({ code: 'audit_entry_modified', seq: 10 })
  })

  it('detects an edited field without recorded hashes at the next link, and at the head by its checkpoint', () => {
    const log = fresh()
    const amount = (e: AuditEntry) => (e.action as { amount: string })
    amount(log.entries[10] as AuditEntry).amount = '1'
    expect(broken(verify({ entries: log.entries, checkpoints: log.checkpoints }))).toEqual({
      code: 'audit_prev_hash_mismatch',
      seq: 11,
    })
    const other = fresh()
    ;(other.entries[29] as AuditEntry).verdict = 'deny'
    expect(broken(verify({ entries: other.entries, checkpoints: other.checkpoints }))).toEqual({
      code: 'audit_checkpoint_mismatch',
      seq: 29,
    })
  })

  it('detects a replaced checkpoint: bad signature, foreign key, or moved head', () => {
    const log = fresh()
    const cp = log.checkpoints[1] as AuditCheckpoint // seq 9
    const flipped = `${cp.signature.slice(0, -2)}${cp.signature.endsWith('00') ? '01' : '00'}`
    const foreign = mockAuditLog({ n: 30, checkpointEvery: 5, seedByte: 9 }).checkpoints[1] as AuditCheckpoint
    for (const replacement of [{ ...cp, signature: flipped }, foreign, { ...cp, head: log.hashes[8] as string }, { ...cp, time: cp.time + 1 }]) {
      const checkpoints = [...log.checkpoints]
      checkpoints[1] = replacement
      expect(broken(verify({ ...log, checkpoints }))).toEqual({ code: 'audit_checkpoint_invalid', seq: 9 })
    }
  })

  it('detects a fork: two signed checkpoints for one seq, or two entries for one seq', () => {
    const a = fresh()
    const b = fresh()
    b.entries.length = b.hashes.length = 20
    b.checkpoints.length = 4 // up to seq 19
    for (let i = 20; i < 30; i++) b.append({ reason: `fork ${i}` }, (i + 1) % 5 === 0)
    // The enclave signed two different heads for seq 24 (state rolled back to 19 and re-grown).
    expect(broken(verify({ ...b, checkpoints: [...b.checkpoints, a.checkpoints[4] as AuditCheckpoint] }))).toEqual({
      code: 'audit_fork',
      seq: 24,
    })
    // An export carrying both branches' entries for seq 20.
    const entries = [...a.entries.slice(0, 21), b.entries[20] as AuditEntry]
    expect(broken(verify({ entries, checkpoints: [] }))).toEqual({ code: 'audit_fork', seq: 20 })
    // A duplicated (identical) entry is only out of order.
    expect(broken(verify({ entries: [...a.entries.slice(0, 21), a.entries[20] as AuditEntry], checkpoints: [] }))).toEqual({
      code: 'audit_out_of_order',
      seq: 20,
    })
  })

  it('detects rollback against a head the auditor saw before', () => {
    const seen = fresh()
    const sinceHead = { seq: 29, hash: seen.hashes[29] as string }
    expect(verify(seen, { sinceHead }).ok).toBe(true)
    // Host restores an older state (head 20) and the enclave re-grows a different history.
    const rolled = fresh()
    rolled.entries.length = rolled.hashes.length = 21
    rolled.checkpoints.length = 4
    for (let i = 21; i < 35; i++) rolled.append({ reason: `after rollback ${i}` }, (i + 1) % 5 === 0)
    expect(verify(rolled).ok).toBe(true) // self-consistent on its own
    expect(broken(verify(rolled, { sinceHead }))).toEqual({ code: 'audit_rollback', seq: 29 })
    expect(broken(verify(rolled, { sinceHead: { hash: sinceHead.hash } }))).toMatchObject({ code: 'audit_rollback' })
    // Host serves an older, shorter log with only its own old checkpoints.
    const old = fresh()
    const shorter = { entries: old.entries.slice(0, 23), hashes: old.hashes.slice(0, 23), checkpoints: old.checkpoints.slice(0, 4) }
    expect(broken(verify(shorter, { sinceHead }))).toEqual({ code: 'audit_rollback', seq: 23 })
    // A head seen before found by hash alone.
    expect(verify(fresh(), { sinceHead: { hash: seen.hashes[12] } }).ok).toBe(true)
  })

  it('verifies a partial log anchored at the auditor’s high-water head, and refuses an unanchored one', () => {
    const log = fresh()
    const tail = { entries: log.entries.slice(15), hashes: log.hashes.slice(15), checkpoints: log.checkpoints.slice(3) }
    expect(verify(tail, { sinceHead: { seq: 14, hash: log.hashes[14] } })).toMatchObject({ ok: true, head: { seq: 29 }, count: 15 })
    expect(broken(verify(tail))).toEqual({ code: 'audit_sequence_gap', seq: 0 })
    expect(broken(verify(tail, { sinceHead: { seq: 14, hash: log.hashes[13] } }))).toEqual({
      code: 'audit_prev_hash_mismatch',
      seq: 15,
    })
  })

  it('reports a malformed entry or checkpoint at its seq', () => {
    const log = fresh()
    ;(log.entries[6] as { event: string }).event = 'sign_everything'
    expect(broken(verify(log))).toEqual({ code: 'audit_malformed', seq: 6 })
    const other = fresh()
    ;(other.checkpoints[2] as { head: string }).head = 'nope'
    expect(broken(verify(other))).toEqual({ code: 'audit_malformed', seq: 14 })
  })

  it('reports an expected head that differs at its seq', () => {
    const log = fresh()
    expect(broken(verify(log, { expectedHead: { seq: 20, hash: log.hashes[19] } }))).toEqual({ code: 'audit_head_mismatch', seq: 20 })
  })

  it('checks checkpoints with signatures made independently of the library', () => {
    const log = fresh()
    const { privateKey } = mockEd25519Key()
    const time = 5
    const head = log.hashes[17] as string
    const message = Buffer.from(`{"head":"${head}","seq":17,"t":"bursar.audit.checkpoint.v1","time":5}`)
    expect(Buffer.from(auditCheckpointMessage({ seq: 17, head, time })).equals(message)).toBe(true)
    const cp = { seq: 17, head, time, signature: `0x${sign(null, message, privateKey).toString('hex')}` }
    expect(verify({ ...log, checkpoints: [cp] }).ok).toBe(true)
  })
})
