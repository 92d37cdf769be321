import { describe, expect, it } from 'vitest'
import { AuditEntrySchema } from '../../shared/audit/auditEntry.js'
import { canonicalJson } from '../../shared/canonical/canonicalJson.js'
import { AgentRequestSchema } from '../../shared/schemas/agentRequest.js'
import { MERCHANT, eip3009, signAgentRequest } from '../../test/helpers/maliciousHost.js'
import { paymentEnclave } from '../../test/helpers/paymentEnclave.js'
import { dispatch } from '../protocol/dispatch.js'

/**
 * Issue 18 (enc34): the agent sign path's `sign_allowed` entry is appended without AuditEntrySchema's parse (built from
 * values the agent request schema, decodeSignRequest's DecodedActionSchema check and the policy schema already
 * bounded). Attack: agent-chosen fields at and past their bounds (reason, resource URL, amounts, validity, message
 * text of any UTF-16, quotes, `__proto__`, lone surrogates) that the entry schema would have refused or rewritten,
 * so the chain would hold an entry no verifier accepts. Property, on generated requests through the real path: every
 * request the agent schema accepts and the policy allows yields an entry the entry schema accepts AND whose parse
 * is the identity (its canonical JSON equals the hashed text): the skipped parse would have changed nothing.
 */
function rng(seed: number) {
  let s = seed >>> 0 || 1
  return () => ((s ^= s << 13), (s ^= s >>> 17), (s ^= s << 5), (s >>> 0) / 2 ** 32)
}
const ALPHABET = ['a', 'Z', '0', ' ', '"', '\\', '/', '\n', '\u2028', 'é', '€', '\ud83d\ude00', '\ud800', '\udfff', '__proto__', '"},"hash":"0x', '\u0000']

describe('enclave: the allowed sign entry skips its schema parse', () => {
  it('every accepted, allowed request yields an entry the entry schema accepts unchanged (generated inputs)', async () => {
    const { enclave, wallet, agent, clock } = await paymentEnclave({ perTx: '1000000', rolling24h: '1000000000000', rules: [{ id: 'msg.any-text_1', effect: 'allow', kinds: ['raw_message'] }] })

    const rand = rng(0x18e34)
    const text = (max: number) => {
      let s = ''
      const n = Math.floor(rand() ** 2 * max)
      while (s.length < n) s += ALPHABET[Math.floor(rand() * ALPHABET.length)]
      return rand() < 0.5 ? s.slice(0, n) : s
    }
    let [allowed, refused] = [0, 0]
    for (let i = 0; i < 300; i++) {
      clock.t += 1
      // Bounds straddled on purpose: reason 280, resource URL 2048 (the entry schema's), any message text.
      const context = { ...(rand() < 0.7 ? { reason: text(400) } : {}), ...(rand() < 0.5 ? { resourceUrl: `https://x.test/${text(2_300)}` } : {}) }
      const operation = rand() < 0.6 ? eip3009({ wallet, value: BigInt(1 + Math.floor(rand() * 1_000_000)), to: MERCHANT }) : { op: 'signMessage' as const, message: { text: text(5_000) } }
      const r = signAgentRequest({ agent, wallet, operation, issuedAt: clock.t, context })
      const res = await dispatch(enclave, { type: 'agentSign', request: r.request, signature: r.signature })
      if (!res.ok) {
        // Refused before any entry (the request schema's bounds) or with a parsed denial entry: not the skipped path.
        refused++
        expect(AgentRequestSchema.safeParse(JSON.parse(r.request)).success && res.error.code !== 'request_invalid').toBe(res.persist !== undefined && res.persist.entries.length > 0)
        continue
      }
      allowed++
      const stored = res.persist!.entries.at(-1)!
      const cut = stored.lastIndexOf(',"hash":"0x')
      const hashed = `${stored.slice(0, cut)}}`
      const entry = JSON.parse(hashed) as Record<string, unknown>
      expect(entry.event).toBe('sign_allowed')
      const parsed = AuditEntrySchema.safeParse(entry)
      expect(parsed.success, `${parsed.error?.issues.map((x) => `${x.path.join('.')}: ${x.message}`).join('; ')}`).toBe(true)
      expect(canonicalJson(parsed.data)).toBe(hashed)
    }
    // Both sides of every bound were reached.
    expect(allowed).toBeGreaterThan(50)
    expect(refused).toBeGreaterThan(50)
  })
})
