import { type Hex, hashMessage, recoverAddress, verifyMessage } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { describe, expect, it } from 'vitest'
import type { AgentRequest } from '../../shared/schemas/agentRequest.js'
import { decodeSignRequest } from './decodeSignRequest.js'
import { MOCK_PRIVATE_KEY, MOCK_REGISTRY, MOCK_WALLET, mockSignRequest } from '../../test/helpers/mockSignRequest.js'
import { signPlan } from '../../enclave/sign/signPlan.js'

const account = privateKeyToAccount(MOCK_PRIVATE_KEY)
const decode = (message: { text: string } | { raw: string }) =>
  decodeSignRequest({ request: mockSignRequest({ op: 'signMessage', message }), wallet: MOCK_WALLET, registry: MOCK_REGISTRY })

describe('decodeSignRequest: EIP-191 personal messages', () => {
  it('signs text exactly as viem signMessage', async () => {
    const text = 'bursar says hi ✓ — ünïcode'
    const r = decode({ text })
    expect(r.ok && r.action).toEqual({ kind: 'raw_message', length: new TextEncoder().encode(text).length, message: { text } })
    if (!r.ok) return
    const out = signPlan({ privateKey: MOCK_PRIVATE_KEY, plan: r.plan })
    expect(out.signature).toBe(await account.signMessage({ message: text }))
    expect(await verifyMessage({ address: MOCK_WALLET, message: text, signature: out.signature })).toBe(true)
  })

  it('signs raw bytes with the EIP-191 prefix, so a 32-byte "digest" is never signed bare', async () => {
    const raw = `0x${'42'.repeat(32)}` as Hex
    const r = decode({ raw })
    expect(r.ok && r.action).toMatchObject({ kind: 'raw_message', length: 32 })
    if (!r.ok) return
    expect(r.plan.digest).toBe(hashMessage({ raw }))
    expect(r.plan.digest).not.toBe(raw)
    const out = signPlan({ privateKey: MOCK_PRIVATE_KEY, plan: r.plan })
    expect(out.signature).toBe(await account.signMessage({ message: { raw } }))
    expect(await verifyMessage({ address: MOCK_WALLET, message: { raw }, signature: out.signature })).toBe(true)
    expect(await recoverAddress({ hash: raw, signature: out.signature })).not.toBe(MOCK_WALLET)
    expect(decode({ raw: '0x' })).toMatchObject({ ok: true, action: { length: 0 } })
  })

  it.each([
    ['odd-length hex', { raw: '0x123' }],
    ['non-hex', { raw: '0xzz' }],
    ['a lone surrogate (would be replaced before signing)', { text: 'a\uD800b' }],
  ])('refuses %s', (_n, message) => {
    expect(decode(message)).toMatchObject({ ok: false, code: 'sign_message_malformed' })
  })

  it('has no op that signs a caller-supplied digest', () => {
    const request = { ...mockSignRequest({ op: 'signMessage', message: { text: 'x' } }), op: 'signHash', hash: `0x${'11'.repeat(32)}` }
    expect(decodeSignRequest({ request: request as unknown as AgentRequest, wallet: MOCK_WALLET, registry: MOCK_REGISTRY })).toMatchObject({
      ok: false,
      code: 'sign_op_unsupported',
    })
    const broken = { ...mockSignRequest({ op: 'signTypedData', typedData: null as never }) }
    expect(decodeSignRequest({ request: broken, wallet: MOCK_WALLET, registry: MOCK_REGISTRY })).toMatchObject({ ok: false, code: 'sign_request_malformed' })
  })
})
