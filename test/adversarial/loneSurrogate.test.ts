import { type Hex, recoverMessageAddress, verifyTypedData } from 'viem'
import { describe, expect, it } from 'vitest'
import type { AgentOperation } from '../../agent/requestSignature.js'
import { CHAIN_ID, type PolicyBody, TOKEN_ENTRY, postSign, signedBody } from '../helpers/agentClient.js'
import { stackWithAgentPerFile } from '../helpers/stackWithAgentPerFile.js'

/** Messages and "Note" typed data go to the owner. */
const policy: PolicyBody = {
  version: 1,
  timeZone: 'UTC',
  tokens: [TOKEN_ENTRY],
  budgets: [],
  rules: [
    {
      id: 'ask-owner',
      effect: 'allow',
      kinds: ['raw_message', 'typed_data'],
      typedData: [{ domainName: 'Notes', primaryTypes: ['Note'] }],
      payTo: { in: ['0x0000000000000000000000000000000000000001'] },
      onViolation: 'pending',
    },
  ],
}
const note = (text: string): Extract<AgentOperation, { op: 'signTypedData' }> => ({
  op: 'signTypedData',
  typedData: { domain: { name: 'Notes', version: '1', chainId: CHAIN_ID }, types: { Note: [{ name: 'text', type: 'string' }] }, primaryType: 'Note', message: { text } },
})

/**
 * Attack: text with a lone UTF-16 surrogate. (1) A message whose emoji
 * straddles the 80-character description cut left half a surrogate pair in
 * the pending summary; the enclave→host CBOR turned it into U+FFFD, so the
 * summary the owner re-hashes no longer matched the digest: the owner could
 * never approve it (`pending_summary_mismatch`). (2) Typed data carrying a
 * lone surrogate was hashed as U+FFFD: what is signed differed from what was
 * sent, audited and shown. Now the cut never splits a pair, and any decoded
 * action with a lone surrogate is `sign_request_malformed` before the writer.
 */
describe('adversarial: lone surrogates in what the owner approves', () => {
  const ask = (operation: AgentOperation) => postSign(s.stack.url, signedBody({ agentKey: s.agentKey, wallet: s.wallet, operation }))

  const s = stackWithAgentPerFile(policy)

  it('typed data with a lone surrogate (value, domain name, field name): no signature, sign_request_malformed, nothing queued', async () => {
    const value = await ask(note('pay \ud800 later'))
    const domain = await ask({ ...note('x'), typedData: { ...note('x').typedData, domain: { name: 'Notes\udfff', version: '1', chainId: CHAIN_ID } } })
    const field = await ask({
      op: 'signTypedData',
      typedData: { domain: { name: 'Notes', version: '1', chainId: CHAIN_ID }, types: { Note: [{ name: 'text', type: 'string' }, { name: 'b\ud800', type: 'bool' }] }, primaryType: 'Note', message: { text: 'x', 'b\ud800': true } },
    })
    for (const r of [value, domain, field]) {
      expect(r.json.signature).toBeUndefined()
      expect(['sign_request_malformed', 'sign_typed_data_malformed']).toContain(r.json.code)
    }
    expect(value.json.code).toBe('sign_request_malformed')
    expect((await s.client.wallet(s.wallet)).pending).toEqual([])
  })

  it('honest: a message whose emoji straddles the description cut is approved by the owner (digest re-checked) and signs', async () => {
    const text = `${'a'.repeat(79)}😀 and more`
    const first = await ask({ op: 'signMessage', message: { text } })
    expect(first.json.code).toBe('approval_pending')
    await s.client.resolvePending(s.wallet, first.json.pendingId as string, true)
    const ok = await ask({ op: 'signMessage', message: { text } })
    expect(ok.status, JSON.stringify(ok.json)).toBe(200)
    expect(await recoverMessageAddress({ message: text, signature: ok.json.signature as Hex })).toBe(s.wallet)
  })

  it('honest: typed data with a well-formed emoji is approved and signs what viem signs', async () => {
    const op = note('lunch 😀')
    const first = await ask(op)
    expect(first.json.code).toBe('approval_pending')
    await s.client.resolvePending(s.wallet, first.json.pendingId as string, true)
    const ok = await ask(op)
    expect(ok.status, JSON.stringify(ok.json)).toBe(200)
    const valid = await verifyTypedData({
      address: s.wallet,
      domain: { name: 'Notes', version: '1', chainId: CHAIN_ID },
      types: { Note: [{ name: 'text', type: 'string' }] },
      primaryType: 'Note',
      message: { text: 'lunch 😀' },
      signature: ok.json.signature as Hex,
    })
    expect(valid).toBe(true)
  })
})
