import { ed25519 } from '@noble/curves/ed25519.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js'
import { describe, expect, it } from 'vitest'
import { auditCheckpointMessage } from './auditCheckpointMessage.js'
import { GENESIS_HASH, hashAuditEntry } from './hashAuditEntry.js'
import { mockAuditLog } from './mockAuditLog.js'

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
