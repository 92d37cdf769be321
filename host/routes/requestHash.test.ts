import { createHash } from 'node:crypto'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { requestHash } from './agentSignOnce.js'

/** The digest as it was computed before cpu36 (three streamed updates): stored answers carry it, so it must not move. */
const streamed = (b: { request: string; signature: string }) =>
  createHash('sha256').update(b.request).update('\n').update(b.signature.toLowerCase()).digest('hex')

describe('requestHash (issue 18, cpu36: one-shot crypto.hash)', () => {
  it('is the streamed digest for any request text and signature, lone surrogates and non-ASCII included', () => {
    const text = fc.oneof(fc.string({ unit: 'binary', maxLength: 300 }), fc.string({ maxLength: 300 }), fc.constantFrom('', '\ud800', 'a\udc00', '\ud83d\ude00\ud800', 'é\n'))
    fc.assert(
      fc.property(text, text, (request, signature) => {
        expect(requestHash({ request, signature })).toBe(streamed({ request, signature }))
      }),
      { numRuns: 2000 },
    )
  })

  it('keeps the fixed vector (a session MAC in upper and lower case hashes alike)', () => {
    const request = '{"v":1,"agentId":"ag","nonce":"n1"}'
    const lower = `s1:${'ab'.repeat(16)}:${'cd'.repeat(32)}`
    expect(requestHash({ request, signature: lower })).toBe(streamed({ request, signature: lower }))
    expect(requestHash({ request, signature: lower.toUpperCase() })).toBe(requestHash({ request, signature: lower }))
    expect(requestHash({ request, signature: lower })).toMatch(/^[0-9a-f]{64}$/)
  })
})
