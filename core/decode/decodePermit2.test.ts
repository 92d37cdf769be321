import { hashTypedData } from 'viem'
import { describe, expect, it } from 'vitest'
import type { TypedDataJson } from '../../shared/schemas/agentRequest.js'
import { MOCK_PAY_TO, MOCK_REGISTRY, MOCK_USDC, MOCK_WALLET, mockSignRequest } from '../../test/helpers/mockSignRequest.js'
import { decodeSignRequest } from './decodeSignRequest.js'

const PERMIT2 = '0x000000000022D473030F116dDEE9F6B43aC78BA3'
const EXACT_PROXY = '0x402085c248EeA27D92E8b30b2C58ed07f9E20001'
const UPTO_PROXY = '0x4020A4f3b7b90ccA423B9fabCc0CE57C6C240002'
const FACILITATOR = '0x90F79bf6EB2c4f870365E785982E1f101E93b906'
const HEAD = [
  { name: 'permitted', type: 'TokenPermissions' },
  { name: 'spender', type: 'address' },
  { name: 'nonce', type: 'uint256' },
  { name: 'deadline', type: 'uint256' },
  { name: 'witness', type: 'Witness' },
]
const TOKEN_PERMISSIONS = [
  { name: 'token', type: 'address' },
  { name: 'amount', type: 'uint256' },
]
const UPTO_WITNESS = [
  { name: 'to', type: 'address' },
  { name: 'facilitator', type: 'address' },
  { name: 'validAfter', type: 'uint256' },
]
const EXACT_WITNESS = [
  { name: 'to', type: 'address' },
  { name: 'validAfter', type: 'uint256' },
]

/** A Permit2 witness transfer as the reference x402 clients sign it. */
function permit(p: { spender: string; witnessFields: { name: string; type: string }[]; witness: Record<string, string>; amount?: string }): TypedDataJson {
  return {
    domain: { name: 'Permit2', chainId: 84532, verifyingContract: PERMIT2 },
    types: { PermitWitnessTransferFrom: HEAD, TokenPermissions: TOKEN_PERMISSIONS, Witness: p.witnessFields },
    primaryType: 'PermitWitnessTransferFrom',
    message: { permitted: { token: MOCK_USDC, amount: p.amount ?? '20000' }, spender: p.spender, nonce: '12345', deadline: '1900000300', witness: p.witness },
  }
}
const upto = (over: Partial<Parameters<typeof permit>[0]> = {}) =>
  permit({ spender: UPTO_PROXY, witnessFields: UPTO_WITNESS, witness: { to: MOCK_PAY_TO, facilitator: FACILITATOR, validAfter: '0' }, ...over })
const exact = (over: Partial<Parameters<typeof permit>[0]> = {}) =>
  permit({ spender: EXACT_PROXY, witnessFields: EXACT_WITNESS, witness: { to: MOCK_PAY_TO, validAfter: '0' }, ...over })
const requirements = (scheme: string, amount: string) => ({ scheme, network: 'eip155:84532', asset: MOCK_USDC, amount, payTo: MOCK_PAY_TO, maxTimeoutSeconds: 300 })
const decode = (typedData: TypedDataJson, req?: ReturnType<typeof requirements>) =>
  decodeSignRequest({
    request: mockSignRequest({ op: 'signTypedData', typedData }, req ? { requirements: req } : undefined),
    wallet: MOCK_WALLET,
    registry: MOCK_REGISTRY,
  })

describe('decodePermit2: x402 exact via Permit2 and upto', () => {
  it('upto: a witness transfer to the canonical upto proxy is an upto action: maximum, payee = witness to, facilitator, validity', () => {
    const td = upto()
    const r = decode(td, requirements('upto', '20000'))
    expect(r).toMatchObject({
      ok: true,
      action: { kind: 'upto', chainId: 84532, asset: MOCK_USDC, amount: '20000', payTo: MOCK_PAY_TO, facilitator: FACILITATOR, nonce: '12345', deadline: '1900000300', validAfter: '0' },
    })
    // The digest is the EIP-712 hash of exactly what was sent (checked with viem).
    expect(r.ok && r.plan).toMatchObject({ kind: 'typedData', digest: hashTypedData(td as never) })
  })

  it('exact via Permit2: a Permit2 transfer whose spender is the exact proxy and whose payee is the witness to', () => {
    expect(decode(exact(), requirements('exact', '20000'))).toMatchObject({
      ok: true,
      action: { kind: 'permit2_transfer', spender: EXACT_PROXY, payTo: MOCK_PAY_TO, amount: '20000' },
    })
  })

  it('another spender with the upto witness shape is a plain Permit2 transfer whose payee is the spender, never upto', () => {
    const other = '0x5B38Da6a701c568545dCfcB03FcB875f56beddC4'
    expect(decode(upto({ spender: other }))).toMatchObject({ ok: true, action: { kind: 'permit2_transfer', spender: other, payTo: null } })
  })

  it('refuses a proxy permit whose witness is not that proxy’s witness (it could not settle it, or means something else)', () => {
    // The exact witness sent to the upto proxy, the upto witness sent to the exact proxy, an extra field, reordered fields.
    expect(decode(upto({ witnessFields: EXACT_WITNESS, witness: { to: MOCK_PAY_TO, validAfter: '0' } }))).toMatchObject({ ok: false, code: 'sign_permit2_shape_invalid' })
    expect(decode(exact({ witnessFields: UPTO_WITNESS, witness: { to: MOCK_PAY_TO, facilitator: FACILITATOR, validAfter: '0' } }))).toMatchObject({ ok: false, code: 'sign_permit2_shape_invalid' })
    expect(
      decode(upto({ witnessFields: [...UPTO_WITNESS, { name: 'memo', type: 'bytes32' }], witness: { to: MOCK_PAY_TO, facilitator: FACILITATOR, validAfter: '0', memo: `0x${'00'.repeat(32)}` } })),
    ).toMatchObject({ ok: false, code: 'sign_permit2_shape_invalid' })
    expect(decode(upto({ witnessFields: [UPTO_WITNESS[1]!, UPTO_WITNESS[0]!, UPTO_WITNESS[2]!] }))).toMatchObject({ ok: false, code: 'sign_permit2_shape_invalid' })
  })

  it('PermitSingle (AllowanceTransfer) stays an allowance: token, amount, spender, expiration, nonce, sigDeadline', () => {
    const spender = '0x5B38Da6a701c568545dCfcB03FcB875f56beddC4'
    const td: TypedDataJson = {
      domain: { name: 'Permit2', chainId: 84532, verifyingContract: PERMIT2 },
      types: {
        PermitSingle: [
          { name: 'details', type: 'PermitDetails' },
          { name: 'spender', type: 'address' },
          { name: 'sigDeadline', type: 'uint256' },
        ],
        PermitDetails: [
          { name: 'token', type: 'address' },
          { name: 'amount', type: 'uint160' },
          { name: 'expiration', type: 'uint48' },
          { name: 'nonce', type: 'uint48' },
        ],
      },
      primaryType: 'PermitSingle',
      message: { details: { token: MOCK_USDC, amount: '10', expiration: 1900000000, nonce: 3 }, spender, sigDeadline: '1900000300' },
    }
    const r = decode(td)
    expect(r).toEqual({
      ok: true,
      action: { kind: 'permit2_allowance', chainId: 84532, asset: MOCK_USDC, amount: '10', spender, expiration: 1900000000, nonce: 3, sigDeadline: '1900000300' },
      plan: { kind: 'typedData', digest: hashTypedData(td as never) },
    })
  })

  it('the advisory requirements must agree: scheme, payee, and an upto amount no larger than the signed maximum', () => {
    expect(decode(upto(), requirements('exact', '20000'))).toMatchObject({ ok: false, code: 'sign_requirements_mismatch' })
    expect(decode(exact(), requirements('upto', '20000'))).toMatchObject({ ok: false, code: 'sign_requirements_mismatch' })
    expect(decode(upto(), requirements('upto', '20001'))).toMatchObject({ ok: false, code: 'sign_requirements_mismatch' })
    expect(decode(upto(), requirements('upto', '5000'))).toMatchObject({ ok: true, action: { kind: 'upto', amount: '20000' } })
    expect(decode(exact(), requirements('exact', '5000'))).toMatchObject({ ok: false, code: 'sign_requirements_mismatch' })
  })
})
