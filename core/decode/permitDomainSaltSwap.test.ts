import { describe, expect, it } from 'vitest'
import type { TypedDataJson } from '../../shared/schemas/agentRequest.js'
import { MOCK_REGISTRY, MOCK_USDC, MOCK_WALLET, mockSignRequest } from '../../test/helpers/mockSignRequest.js'
import { decodeSignRequest } from './decodeSignRequest.js'

const DEX = '0x1111111254EEB25477B68fb85Ed929f73A960582'
const SALT = `0x${'ab'.repeat(32)}`

const permit = (domain: Record<string, unknown>): TypedDataJson => ({
  domain: { name: 'USDC', version: '2', chainId: 84532, verifyingContract: MOCK_USDC, ...domain },
  types: {
    Permit: [
      { name: 'owner', type: 'address' },
      { name: 'spender', type: 'address' },
      { name: 'value', type: 'uint256' },
      { name: 'nonce', type: 'uint256' },
      { name: 'deadline', type: 'uint256' },
    ],
  },
  primaryType: 'Permit',
  message: { owner: MOCK_WALLET, spender: DEX, value: '5', nonce: '0', deadline: '1900000000' },
})
const transfer = (domain: Record<string, unknown>): TypedDataJson => ({
  domain: { name: 'USDC', version: '2', chainId: 84532, verifyingContract: MOCK_USDC, ...domain },
  types: {
    TransferWithAuthorization: ['address from', 'address to', 'uint256 value', 'uint256 validAfter', 'uint256 validBefore', 'bytes32 nonce'].map((f) => ({ name: f.split(' ')[1]!, type: f.split(' ')[0]! })),
  },
  primaryType: 'TransferWithAuthorization',
  message: { from: MOCK_WALLET, to: DEX, value: '5', validAfter: '0', validBefore: '1900000000', nonce: `0x${'01'.repeat(32)}` },
})
const decode = (typedData: TypedDataJson) => decodeSignRequest({ request: mockSignRequest({ op: 'signTypedData', typedData }), wallet: MOCK_WALLET, registry: MOCK_REGISTRY })

/**
 * bind12, attack on issue 12 finding 1 (an approval binds the exact thing signed): an EIP-2612 Permit's domain may
 * carry a `salt`; the decoder hashed it (another digest) but the action did not record it, so `Permit(DEX, 5)` under
 * the registry's domain and the same Permit under that domain plus a salt had one action, approval key and owner
 * summary. The registry names no salt for any token: a domain salt is refused, never signed on another's approval.
 */
describe('attack: a token permit or authorization under a salted domain rides on an approval (EIP-2612; EIP-3009 and Permit2 already refused)', () => {
  it('an EIP-2612 Permit with a domain salt is refused (sign_domain_mismatch); without it, it decodes', () => {
    expect(decode(permit({}))).toMatchObject({ ok: true, action: { kind: 'erc2612_permit', amount: '5' } })
    expect(decode(permit({ salt: SALT }))).toMatchObject({ ok: false, code: 'sign_domain_mismatch' })
  })
  it('Permit2 under a salted domain is refused too', () => {
    const td = (salt?: string): TypedDataJson => ({
      domain: { name: 'Permit2', chainId: 84532, verifyingContract: '0x000000000022D473030F116dDEE9F6B43aC78BA3', ...(salt ? { salt } : {}) },
      types: {
        PermitTransferFrom: ['TokenPermissions permitted', 'address spender', 'uint256 nonce', 'uint256 deadline'].map((f) => ({ name: f.split(' ')[1]!, type: f.split(' ')[0]! })),
        TokenPermissions: [{ name: 'token', type: 'address' }, { name: 'amount', type: 'uint256' }],
      },
      primaryType: 'PermitTransferFrom',
      message: { permitted: { token: MOCK_USDC, amount: '5' }, spender: DEX, nonce: '1', deadline: '1900000000' },
    })
    expect(decode(td())).toMatchObject({ ok: true, action: { kind: 'permit2_transfer' } })
    expect(decode(td(SALT))).toMatchObject({ ok: false, code: 'sign_permit2_shape_invalid' })
  })
  it('EIP-3009 under a salted domain is refused too', () => {
    expect(decode(transfer({}))).toMatchObject({ ok: true, action: { kind: 'eip3009' } })
    expect(decode(transfer({ salt: SALT }))).toMatchObject({ ok: false, code: 'sign_eip3009_shape_invalid' }) // its domain is exactly four fields
  })
})
