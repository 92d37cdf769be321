import { ed25519 } from '@noble/curves/ed25519.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js'
import { readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { canonicalJson } from '../canonical/canonicalJson.js'
import { auditCheckpointMessage } from './auditCheckpointMessage.js'
import type { AuditEntry } from './auditEntry.js'
import { GENESIS_HASH, hashAuditEntry } from './hashAuditEntry.js'
import { mockAuditBody, mockAuditLog } from './mockAuditLog.js'

/**
 * suite40: entries whose strings JSON.stringify escapes awkwardly (lone surrogates, a reversed pair, a real pair,
 * controls, U+2028; a key with a lone surrogate), their canonical JSON and hash as this code computes them. The Python
 * SDK hashes the same entries (clients/python/tests/test_receipt_vectors.py); BURSAR_WRITE_VECTORS=1 rewrites the file.
 */
const STRING_VECTORS_FILE = path.join(import.meta.dirname, '../../clients/python/tests/vectors/ts_entry_hash_strings.json')
function stringVectors(): { entries: { entry: AuditEntry; canonical: string; hash: string }[] } {
  const reasons = ['lone high \ud800 end', 'lone low \udc00', 'reversed \ude00\ud83d pair', 'pair \ud83d\ude00 ok', '\ud83d', 'ctl \u0000\u001f\u007f \u2028\u2029 "q" \\ é']
  const entries = reasons.map((r, i) => ({ ...mockAuditBody(i), reason: r, seq: i, prevHash: GENESIS_HASH }) as AuditEntry)
  entries.push({ ...entries[0]!, reason: 'key', action: { ...(entries[0]!.action as object), ['x\udbff']: 'y', ['x\ud83d\ude00']: 1, ['x\uffff']: '\udfff' } } as unknown as AuditEntry)
  return { entries: entries.map((entry) => ({ entry, canonical: canonicalJson(entry), hash: hashAuditEntry(entry) })) }
}

describe('hashAuditEntry', () => {
  it('is SHA-256(tag ‖ prevHash bytes ‖ canonical JSON), recomputed independently', () => {
    const log = mockAuditLog({ n: 3 })
    const e = log.entries[1]!
    // Hand-written canonical JSON: keys sorted, no whitespace (docs/audit.md).
    const a = e.action as Record<string, unknown>
    const action = `{"amount":"${a.amount}","asset":"${a.asset}","chainId":84532,"from":"${a.from}","kind":"eip3009","nonce":"${a.nonce}","payTo":"${a.payTo}","primaryType":"TransferWithAuthorization","validAfter":0,"validBefore":1767229200}`
    const json =
      `{"action":${action},"agentId":"${e.agentId}","code":null,"event":"sign_allowed","ledger":[{"amount":"10001","i":1,"op":"reserve"}],` +
      `"policy":{"hash":"${e.policy!.hash}","version":3},"prevHash":"${e.prevHash}","reason":${JSON.stringify(e.reason)},` +
      `"requestId":"req_1","resourceUrl":"${e.resourceUrl}","rule":null,"seq":1,"signedHash":"${e.signedHash}","stateVersion":2,` +
      `"time":${e.time},"verdict":"allow","wallet":"${e.wallet}"}`
    const preimage = new Uint8Array([...utf8ToBytes('bursar.audit.entry.v1'), ...Buffer.from(e.prevHash.slice(2), 'hex'), ...utf8ToBytes(json)])
    expect(hashAuditEntry(e)).toBe(`0x${bytesToHex(sha256(preimage))}`)
    expect(e.prevHash).toBe(log.hashes[0])
    expect(log.entries[0]!.prevHash).toBe(GENESIS_HASH)
  })

  it('pins the hash of a fixed entry (a format change must be deliberate)', () => {
    const log = mockAuditLog({ n: 2 })
    expect(log.hashes).toMatchInlineSnapshot(`
      [
        "0x19a6b58ecf35afcf1f3d71961ec0ad0078b887877d8077a609cfe057e7c96af4",
        "0x1763f3d9e40db0a62fc94ca00b38c5a1dec47389cff34de2e72383432ffc0892",
      ]
    `)
  })

  it('hashes lone surrogates as JSON.stringify escapes them; the vectors shared with the Python SDK are current', () => {
    const want = `${JSON.stringify(stringVectors(), null, 1)}\n`
    if (process.env.BURSAR_WRITE_VECTORS === '1') writeFileSync(STRING_VECTORS_FILE, want)
    expect(readFileSync(STRING_VECTORS_FILE, 'utf8')).toBe(want)
    const [high, low, reversed, pair] = stringVectors().entries
    expect(high!.canonical).toContain('"reason":"lone high \\ud800 end"')
    expect(low!.canonical).toContain('"reason":"lone low \\udc00"')
    expect(reversed!.canonical).toContain('"reason":"reversed \\ude00\\ud83d pair"')
    expect(pair!.canonical).toContain('"reason":"pair 😀 ok"')
  })

  it('changes with any field, including an absent vs null resourceUrl', () => {
    const e = mockAuditLog({ n: 1 }).entries[0]!
    const h = hashAuditEntry(e)
    expect(hashAuditEntry({ ...e, stateVersion: 2 })).not.toBe(h)
    const { resourceUrl, ...noUrl } = e
    void resourceUrl
    expect(hashAuditEntry(noUrl)).not.toBe(h)
  })

  it('checkpoint signatures verify with an independent Ed25519 implementation', () => {
    const log = mockAuditLog({ n: 5, checkpointEvery: 5 })
    const cp = log.checkpoints[0]!
    const msg = auditCheckpointMessage(cp)
    const sig = Buffer.from(cp.signature.slice(2), 'hex')
    const pub = Buffer.from(log.publicKeyHex, 'hex')
    expect(ed25519.verify(sig, msg, pub)).toBe(true)
    expect(ed25519.verify(sig, auditCheckpointMessage({ ...cp, seq: 3 }), pub)).toBe(false)
  })
})
