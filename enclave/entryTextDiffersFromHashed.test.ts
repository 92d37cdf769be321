import { createHmac } from 'node:crypto'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { createSimSealer } from '../sim/simSealer.js'
import { canonicalJson } from '../shared/canonical/canonicalJson.js'
import { AuditEntrySchema } from '../shared/audit/auditEntry.js'
import { hashAuditEntry } from '../shared/audit/hashAuditEntry.js'
import { parseAdmission } from '../shared/owner/parseAdmission.js'
import type { Persist } from '../shared/protocol/messages.js'
import { Enclave } from './Enclave.js'
import { finishLoad } from './state/loadState.js'

/**
 * Issue 18 (cpu18) red team (rt32b): the enclave's stored entry text is now the canonical JSON it hashed with `hash`
 * and `mac` spliced in before the closing brace, and the in-order release takes a block's seqs from
 * `Enclave.blockSeqs` instead of parsing its texts. Attack: fields an agent or owner chooses (reason, request id,
 * agent id, resource URL, ledger payloads) that canonicalJson and JSON.parse might treat differently — lone
 * surrogates, `__proto__`, -0, big and tiny numbers, U+2028, quotes, a key that sorts after `hash`/`mac` — so that
 * what a reader parses (host store, verifiers, the enclave's own replay) is not what was hashed, or a duplicate key
 * shadows the hash. Every text must parse to exactly the hashed entry plus `hash` and `mac`, re-canonicalize to the
 * same bytes, verify (hash, HMAC), and each block's recorded seqs must be its texts' own first and last.
 */
const macKeyOf = (enclave: Enclave) => (enclave as unknown as { entryMacKey: Uint8Array }).entryMacKey

async function readyEnclave(): Promise<Enclave> {
  const dir = mkdtempSync(path.join(tmpdir(), 'bursar-entrytext-'))
  const enclave = new Enclave({
    mode: 'sim',
    sealer: createSimSealer({ keyFile: path.join(dir, 'k') }),
    nsm: { kind: 'mock', attest: async () => new Uint8Array() },
    configVersion: '1',
    admission: parseAdmission(undefined),
    log: () => {},
    snapshotEvery: 1_000_000,
  })
  await enclave.loadSnapshot(null)
  const first = await finishLoad(enclave)
  await release(enclave, first.persist)
  return enclave
}

const seqsOf = (p: Persist) => p.entries.map((t) => (JSON.parse(t) as { seq: number }).seq)

/** What dispatch does, with the seqs it now takes from blockSeqs; asserts they are the texts' own. */
async function release(enclave: Enclave, p: Persist | undefined) {
  if (!p || p.entries.length === 0) return
  const s = seqsOf(p)
  expect(enclave.blockSeqs.get(p)).toEqual([s[0], s[s.length - 1]])
  await enclave.releaseOrder.wait(s[0]!, s[s.length - 1]!)
  await new Promise((r) => setImmediate(r))
}

const hostile = [
  '\ud800',
  'a\udfffb',
  '\ud83d\ude00',
  '"},"hash":"0x00","mac":"',
  '__proto__',
  '\u2028\u2029\u0000\u001f\u007f',
  'é\\',
]

const proto = JSON.parse('{"__proto__":{"polluted":1},"constructor":{"prototype":{"x":1}}}') as Record<string, unknown>
const ledgers: unknown[][] = [
  [proto],
  [{ a: -0, b: 1e21, c: 5e-324, d: 2 ** 53 + 2, e: 0.1 + 0.2, f: -1.7976931348623157e308 }],
  [{ zz: 1, hash: 'inner', mac: 'inner', '': 0, '\ud800': [1, [2, { y: null, x: true }]] }],
  [[], {}, [[]], 'x'],
]

describe('entry text vs hashed canonical JSON (cpu18): hostile field values', () => {
  it('every text parses to the hashed entry + hash + mac, re-canonicalizes to the same bytes, verifies; blockSeqs match', async () => {
    const enclave = await readyEnclave()
    const texts: string[] = []
    for (let i = 0; i < hostile.length; i++) {
      const s = hostile[i]!
      const tx = enclave.beginTx()
      // Two entries per block: the first and last seqs differ.
      for (const ledger of [ledgers[i % ledgers.length]!, []]) {
        enclave.appendEntry(tx, {
          event: 'sign_denied', wallet: null, agentId: s, action: null, reason: s, resourceUrl: s, policy: null,
          verdict: 'deny', rule: s, code: s, signedHash: null, requestId: s, ledger,
        })
      }
      const p = await enclave.completeTx(await enclave.sealTx(tx))
      expect(p.entries).toHaveLength(2)
      await release(enclave, p)
      texts.push(...p.entries)
    }
    const key = macKeyOf(enclave)
    let prev: string | undefined
    for (const text of texts) {
      const parsed = JSON.parse(text) as Record<string, unknown>
      const { hash, mac, ...entry } = parsed
      // No duplicate top-level key shadowed anything: the entry's own members and exactly hash and mac after them.
      expect(Object.keys(parsed).slice(-2)).toEqual(['hash', 'mac'])
      expect(Object.keys(AuditEntrySchema.parse(entry)).sort()).toEqual(Object.keys(entry).sort())
      // The text is the hashed canonical JSON with the two members spliced in, byte for byte.
      const canonical = canonicalJson(entry)
      expect(text).toBe(`${canonical.slice(0, -1)},"hash":"${hash}","mac":"${mac}"}`)
      expect(canonicalJson(JSON.parse(canonical))).toBe(canonical)
      expect(hashAuditEntry(AuditEntrySchema.parse(entry))).toBe(hash)
      expect(mac).toBe(createHmac('sha256', key).update(hash as string).digest('hex'))
      if (prev) expect(entry.prevHash).toBe(prev)
      prev = hash as string
      // A value that arrived as the agent sent it (lone surrogates survive JSON.stringify's escapes).
      expect(hostile).toContain(entry.reason)
    }
    // The whole-text catchUp re-send carries the same bytes, and its block's seqs are its texts'.
    const again = await enclave.catchUp(0, 0)
    expect(again.persist.entries).toEqual(texts)
    const s = seqsOf(again.persist)
    expect(enclave.blockSeqs.get(again.persist)).toEqual([s[0], s[s.length - 1]])
  })

  it('a ledger value with a toJSON is hashed and stored as the same text (no second serialization that could call it)', async () => {
    const enclave = await readyEnclave()
    const tx = enclave.beginTx()
    const sneaky = { amount: '1', toJSON: undefined as unknown, date: new Date(0) }
    enclave.appendEntry(tx, {
      event: 'sign_denied', wallet: null, agentId: null, action: null, reason: null, policy: null,
      verdict: 'deny', rule: null, code: null, signedHash: null, requestId: null, ledger: [sneaky],
    })
    const p = await enclave.completeTx(await enclave.sealTx(tx))
    const { hash, mac: _mac, ...entry } = JSON.parse(p.entries[0]!) as Record<string, unknown>
    expect(hashAuditEntry(AuditEntrySchema.parse(entry))).toBe(hash)
    expect((entry.ledger as unknown[])[0]).toEqual({ amount: '1', date: {} })
  })
})
