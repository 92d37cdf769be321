import { describe, expect, it } from 'vitest'
import { canonicalJson } from '../../shared/canonical/canonicalJson.js'
import type { Persist } from '../../shared/protocol/messages.js'
import { answerJson, withAuditEntry } from './EnclaveGateway.js'

/**
 * Issue 18 (cpu39): a signature's answer text splices in its audit entry's stored text instead of stringifying the
 * entry's parse. Property: on generated entries (keys that are array indices, `__proto__`, nested `hash` keys, any
 * UTF-16 incl. lone surrogates, quotes and control characters, large and negative numbers, nesting) the spliced text
 * is byte for byte JSON.stringify of the body as withAuditEntry leaves it.
 */
function rng(seed: number) {
  let s = seed >>> 0 || 1
  return () => ((s ^= s << 13), (s ^= s >>> 17), (s ^= s << 5), (s >>> 0) / 2 ** 32)
}
const CHARS = ['a', 'Z', '0', '9', ' ', '"', '\\', '/', '\n', '\u0001', '\u2028', 'é', '€', '\ud83d\ude00', '\ud800', '\udfff', '{', ',', ':']
const KEYS = ['action', 'hash', 'mac', 'seq', '0', '1', '10', '2', '4294967294', '4294967295', '01', '-1', '__proto__', 'a1', '', 'é', 'Z']

describe('host: the answer text with its audit entry spliced in', () => {
  it('equals JSON.stringify of the answer body on generated entries', () => {
    const rand = rng(0xc39a)
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!
    const str = () => Array.from({ length: Math.floor(rand() * 8) }, () => pick(CHARS)).join('')
    const value = (depth: number): unknown => {
      const r = rand()
      if (r < 0.2) return str()
      if (r < 0.35) return pick([0, -1, 1.5, 2 ** 53 - 1, -(2 ** 53), 1e21, 5e-7, 1796301331893])
      if (r < 0.42) return pick([null, true, false])
      if (depth > 3) return 'leaf'
      if (r < 0.55) return Array.from({ length: Math.floor(rand() * 4) }, () => value(depth + 1))
      const o: Record<string, unknown> = {}
      for (let i = Math.floor(rand() * 5); i > 0; i--) Object.defineProperty(o, rand() < 0.5 ? pick(KEYS) : str(), { value: value(depth + 1), enumerable: true, configurable: true, writable: true })
      return o
    }
    let [spliced, indexKeys] = [0, 0]
    for (let n = 0; n < 3_000; n++) {
      const seq = Math.floor(rand() * 1_000_000)
      const entry: Record<string, unknown> = { seq, event: 'sign_allowed', wallet: '0xab', ledger: [] }
      for (let i = Math.floor(rand() * 4); i > 0; i--) {
        const k = pick(['action', 'reason', 'policy', 'requestId', 'x'])
        entry[k] = value(1)
      }
      const canonical = canonicalJson(entry)
      const text = `${canonical.slice(0, -1)},"hash":"0x${'ab'.repeat(32)}","mac":"${'cd'.repeat(32)}"}`
      // Other entries of the block before it (a refusal's, an info entry): only the receipt's own is spliced.
      const persist = { entries: [...(rand() < 0.3 ? [`{"seq":${seq + 1},"x":1,"hash":"0x00","mac":"00"}`] : []), text], checkpoint: null, sealed: null } as unknown as Persist
      const result = { signature: `0x${'11'.repeat(65)}`, signedHash: `0x${'22'.repeat(32)}`, receipt: { seq, entryHash: `0x${'ab'.repeat(32)}`, walletSeq: 3, stateVersion: 4, ...(rand() < 0.5 ? { reason: str() } : {}) } }
      const body = withAuditEntry(result, persist)
      expect(answerJson(body)).toBe(JSON.stringify(body))
      if (/[{,]"[0-9]/.test(canonical)) indexKeys++
      else spliced++
    }
    expect(spliced).toBeGreaterThan(500)
    expect(indexKeys).toBeGreaterThan(500)
    // Not a signature's (no auditEntry), a refusal, null: stringified as they are.
    for (const b of [{ code: 'x', message: '"' }, null, { auditEntry: { seq: 1 } }, { receipt: { seq: 1 } }]) expect(answerJson(b)).toBe(JSON.stringify(b))
  })
})
