import { type Hex, recoverMessageAddress } from 'viem'
import { describe, expect, it } from 'vitest'
import type { AgentOperation } from '../../agent/requestSignature.js'
import { MAX_PENDING_SUMMARY_BYTES } from '../../core/policy/decidePolicy.js'
import { type PolicyBody, TOKEN_ENTRY, postSign, signedBody } from '../helpers/agentClient.js'
import { stackWithAgentPerFile } from '../helpers/stackWithAgentPerFile.js'

/** Every message goes to the owner. */
const policy: PolicyBody = {
  version: 1,
  timeZone: 'UTC',
  tokens: [TOKEN_ENTRY],
  budgets: [],
  rules: [{ id: 'ask-owner', effect: 'allow', kinds: ['raw_message'], payTo: { in: ['0x0000000000000000000000000000000000000001'] }, onViolation: 'pending' }],
}
const message = (text: string): AgentOperation => ({ op: 'signMessage', message: { text } })

/**
 * Attack: the 4 KiB cap on a pending request's summary (sealed state the
 * owner must read) was measured in JS string length. A message of 1,300
 * '€' (3 UTF-8 bytes, 1 UTF-16 unit each) is ~1.7 K "characters" of summary
 * but ~4.3 KB stored — up to 3× the bound per pending request, 64 of them
 * per agent. The cap is now in UTF-8 bytes: `policy_pending_limit`, nothing
 * queued; ASCII of the same length is queued, and an approved message signs.
 */
describe('adversarial: multi-byte text past the pending-summary cap', () => {
  const ask = (operation: AgentOperation) => postSign(s.stack.url, signedBody({ agentKey: s.agentKey, wallet: s.wallet, operation }))

  const s = stackWithAgentPerFile(policy)

  it('1,300 × "€" (3,900 UTF-8 bytes of message): no signature, policy_pending_limit, nothing queued', async () => {
    const text = '€'.repeat(1300)
    expect(text.length).toBeLessThan(MAX_PENDING_SUMMARY_BYTES / 2)
    expect(Buffer.byteLength(text)).toBeGreaterThan(MAX_PENDING_SUMMARY_BYTES - 300)
    const r = await ask(message(text))
    expect(r.json.signature).toBeUndefined()
    expect(r.json.code).toBe('policy_pending_limit')
    expect((await s.client.wallet(s.wallet)).pending).toEqual([])
  })

  it('honest: 1,300 ASCII characters are queued; a short message approved by the owner signs', async () => {
    const ascii = await ask(message('e'.repeat(1300)))
    expect(ascii.json.code).toBe('approval_pending')
    const text = 'log in to example.com'
    const first = await ask(message(text))
    expect(first.json.code).toBe('approval_pending')
    await s.client.resolvePending(s.wallet, first.json.pendingId as string, true)
    const ok = await ask(message(text))
    expect(ok.status, JSON.stringify(ok.json)).toBe(200)
    expect(await recoverMessageAddress({ message: text, signature: ok.json.signature as Hex })).toBe(s.wallet)
  })
})
