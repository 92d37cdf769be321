import fc from 'fast-check'
import { hashTypedData, verifyTypedData } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { describe, expect, it } from 'vitest'
import type { TypedDataJson } from '../../shared/schemas/agentRequest.js'
import { DecodedActionSchema } from '../../shared/schemas/decodedAction.js'
import { decodeSignRequest } from './decodeSignRequest.js'
import { MOCK_PAY_TO, MOCK_PRIVATE_KEY, MOCK_REGISTRY, MOCK_USDC, MOCK_WALLET, mockSignRequest } from '../../test/helpers/mockSignRequest.js'
import { signPlan } from '../../enclave/sign/signPlan.js'

const account = privateKeyToAccount(MOCK_PRIVATE_KEY)

// EIP-2612 Permit on the registry's USDC: typed data policy allows only by domain + primaryType.
function permit(): TypedDataJson {
  return {
    domain: { name: 'USDC', version: '2', chainId: 84532, verifyingContract: MOCK_USDC },
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
    message: { owner: MOCK_WALLET, spender: MOCK_PAY_TO, value: '1000000', nonce: 0, deadline: '1900000000' },
  }
}

// The EIP-712 spec's Mail example extended with arrays, bool, bytes and signed ints.
function mail(): TypedDataJson {
  return {
    domain: { name: 'Ether Mail', version: '1', chainId: '1', verifyingContract: '0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC', salt: `0x${'11'.repeat(32)}` },
    types: {
      Person: [
        { name: 'name', type: 'string' },
        { name: 'wallets', type: 'address[]' },
      ],
      Mail: [
        { name: 'from', type: 'Person' },
        { name: 'to', type: 'Person[2]' },
        { name: 'contents', type: 'string' },
        { name: 'urgent', type: 'bool' },
        { name: 'attachment', type: 'bytes' },
        { name: 'delta', type: 'int64' },
        { name: 'tag', type: 'bytes4' },
      ],
    },
    primaryType: 'Mail',
    message: {
      from: { name: 'Cow', wallets: [MOCK_WALLET] },
      to: [
        { name: 'Bob', wallets: [] },
        { name: 'Alice', wallets: [MOCK_PAY_TO, MOCK_USDC] },
      ],
      contents: 'Hello, Bob!',
      urgent: true,
      attachment: '0xdeadbeef',
      delta: '-42',
      tag: '0x01020304',
    },
  }
}

const decode = (typedData: TypedDataJson) =>
  decodeSignRequest({ request: mockSignRequest({ op: 'signTypedData', typedData }), wallet: MOCK_WALLET, registry: MOCK_REGISTRY })

describe('decodeSignRequest: generic typed data', () => {
  it('decodes an EIP-2612 Permit as an allowance (erc2612_permit) and signs exactly what viem signs', async () => {
    const r = decode(permit())
    expect(r.ok && DecodedActionSchema.parse(r.action)).toEqual({
      kind: 'erc2612_permit',
      chainId: 84532,
      asset: MOCK_USDC,
      owner: MOCK_WALLET,
      spender: MOCK_PAY_TO,
      amount: '1000000',
      nonce: '0',
      deadline: '1900000000',
    })
    if (!r.ok) return
    const viemTd = { ...permit(), domain: { ...permit().domain, chainId: 84532 }, message: { owner: MOCK_WALLET, spender: MOCK_PAY_TO, value: 1000000n, nonce: 0n, deadline: 1900000000n } }
    const out = signPlan({ privateKey: MOCK_PRIVATE_KEY, plan: r.plan })
    expect(out.signature).toBe(await account.signTypedData(viemTd as never))
    expect(await verifyTypedData({ ...(viemTd as object), address: MOCK_WALLET, signature: out.signature } as never)).toBe(true)
  })

  it('hashes nested structs, arrays, salt and signed ints as viem does', async () => {
    const td = mail()
    const r = decode(td)
    expect(r.ok && r.action).toMatchObject({ kind: 'typed_data', chainId: 1, primaryType: 'Mail', domainName: 'Ether Mail' })
    if (!r.ok) return
    const viemTd = { ...td, domain: { ...td.domain, chainId: 1 }, message: { ...td.message, delta: -42n } }
    expect(r.plan.digest).toBe(hashTypedData(viemTd as never))
    expect(signPlan({ privateKey: MOCK_PRIVATE_KEY, plan: r.plan }).signature).toBe(await account.signTypedData(viemTd as never))
  })

  const cases: [string, (td: TypedDataJson) => void][] = [
    ['primaryType EIP712Domain (a bare domain hash)', (td) => void (td.primaryType = 'EIP712Domain')],
    ['undeclared primaryType', (td) => void (td.primaryType = 'Letter')],
    ['undeclared field type', (td) => void (td.types.Mail![0]!.type = 'Human')],
    ['invalid integer width', (td) => void (td.types.Mail![5]!.type = 'int7')],
    ['bare int', (td) => void (td.types.Mail![5]!.type = 'int')],
    ['bytes33', (td) => void (td.types.Mail![6]!.type = 'bytes33')],
    ['struct named like an atomic type', (td) => void (td.types.address = [{ name: 'x', type: 'string' }])],
    ['duplicate field', (td) => void td.types.Mail!.push({ name: 'urgent', type: 'bool' })],
    ['__proto__ field', (td) => void td.types.Person!.push({ name: '__proto__', type: 'string' })],
    ['extra message key', (td) => void (td.message.bcc = 'Eve')],
    ['missing message key', (td) => void delete td.message.urgent],
    ['bool given as string', (td) => void (td.message.urgent = 'true')],
    ['odd-length bytes', (td) => void (td.message.attachment = '0xabc')],
    ['bytes4 of wrong size', (td) => void (td.message.tag = '0x0102')],
    ['int64 out of range', (td) => void (td.message.delta = (1n << 63n).toString())],
    ['fixed array of wrong length', (td) => void (td.message.to = [{ name: 'Bob', wallets: [] }])],
    ['array given an object', (td) => void ((td.message.from as { wallets: unknown }).wallets = { 0: MOCK_WALLET })],
    ['bad address in nested array', (td) => void ((td.message.from as { wallets: unknown }).wallets = ['0x1234'])],
    ['EIP712Domain without salt while domain has one', (td) => void (td.types.EIP712Domain = [{ name: 'name', type: 'string' }, { name: 'version', type: 'string' }, { name: 'chainId', type: 'uint256' }, { name: 'verifyingContract', type: 'address' }])],
    ['salt not bytes32', (td) => void (td.domain.salt = '0x11')],
    ['chainId beyond a safe integer', (td) => void (td.domain.chainId = (2n ** 64n).toString())],
  ]
  it.each(cases)('refuses %s', (_name, mutate) => {
    const td = mail()
    mutate(td)
    expect(decode(td)).toMatchObject({ ok: false, code: 'sign_typed_data_malformed' })
  })

  it('bounds the EIP-712 type-string work (maxTypeWork): one 40 KB type string hashes, two instances of it are refused', () => {
    const chain = (items: number): TypedDataJson => ({
      domain: { name: 'Chain', chainId: 84532 },
      types: { T0: [{ name: 'items', type: 'T0[]' }, { name: 'pad', type: 'P[]' }], P: [{ name: `p${'x'.repeat(40_000)}`, type: 'uint256' }] },
      primaryType: 'T0',
      message: { items: Array.from({ length: items }, () => ({ items: [], pad: [] })), pad: [] },
    })
    expect(decode(chain(0))).toMatchObject({ ok: true })
    expect(decode(chain(1))).toMatchObject({ ok: false, code: 'sign_typed_data_too_large', message: expect.stringMatching(/type strings longer than 65536/) })
  })

  it('refuses a typed-data chain that the x402 requirements do not name', () => {
    const request = mockSignRequest(
      { op: 'signTypedData', typedData: mail() },
      { requirements: { scheme: 'exact', network: 'eip155:84532', asset: MOCK_USDC, amount: '1', payTo: MOCK_PAY_TO } },
    )
    expect(decodeSignRequest({ request, wallet: MOCK_WALLET, registry: MOCK_REGISTRY })).toMatchObject({ ok: false, code: 'sign_chain_mismatch' })
  })

  it('never throws on random typed data (always a value, and a success is a well-formed action)', () => {
    const name = fc.constantFrom('Mail', 'Person', 'EIP712Domain', 'TransferWithAuthorization', 'ReceiveWithAuthorization', 'address', '__proto__', 'X', '')
    const type = fc.oneof(
      fc.constantFrom('address', 'bool', 'string', 'bytes', 'bytes32', 'bytes0', 'uint256', 'int8', 'uint7', 'Mail', 'Person', 'Person[]', 'Person[2]', 'uint256[][3]', 'X[', '[]'),
      fc.string({ maxLength: 12 }),
    )
    const field = fc.record({ name: fc.oneof(fc.constantFrom('from', 'to', 'value', 'validAfter', 'validBefore', 'nonce', 'x'), fc.string({ maxLength: 6 })), type })
    const types = fc.dictionary(name, fc.array(field, { maxLength: 7 }), { maxKeys: 4 })
    const domain = fc.record(
      {
        name: fc.constantFrom('USDC', 'x'),
        version: fc.constantFrom('2', '1'),
        chainId: fc.oneof(fc.constantFrom(84532, 0, -1, 1.5), fc.constantFrom('84532', '0x1', '99999999999999999999')),
        verifyingContract: fc.constantFrom(MOCK_USDC, MOCK_PAY_TO.toLowerCase()),
        salt: fc.constantFrom(`0x${'11'.repeat(32)}`, '0x', '0x1'),
      },
      { requiredKeys: [] },
    )
    const message = fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 7 })
    fc.assert(
      fc.property(types, name, domain, message, (t, primaryType, d, m) => {
        const typedData = { domain: d, types: t, primaryType, message: m } as TypedDataJson
        const r = decode(typedData)
        if (r.ok) expect(DecodedActionSchema.safeParse(r.action).success).toBe(true)
        // sign_request_malformed is the decoder's catch-all for an internal throw: it must never be reached.
        else expect(r.code).toMatch(/^sign_(?!request_malformed)[a-z0-9_]+$/)
      }),
      { numRuns: 3000 },
    )
  })

  it('fuzzed EIP-3009 messages never throw and succeed only with the exact shape', () => {
    const val = fc.oneof(fc.jsonValue({ maxDepth: 1 }), fc.bigInt({ min: -1n, max: 1n << 257n }).map(String), fc.constantFrom(MOCK_WALLET, MOCK_PAY_TO, `0x${'ab'.repeat(32)}`))
    const message = fc.record({ from: val, to: val, value: val, validAfter: val, validBefore: val, nonce: val }, { requiredKeys: [] })
    fc.assert(
      fc.property(message, (m) => {
        const td = {
          domain: { name: 'USDC', version: '2', chainId: 84532, verifyingContract: MOCK_USDC },
          types: { TransferWithAuthorization: [{ name: 'from', type: 'address' }, { name: 'to', type: 'address' }, { name: 'value', type: 'uint256' }, { name: 'validAfter', type: 'uint256' }, { name: 'validBefore', type: 'uint256' }, { name: 'nonce', type: 'bytes32' }] },
          primaryType: 'TransferWithAuthorization',
          message: m,
        } as TypedDataJson
        const r = decode(td)
        if (r.ok) expect(DecodedActionSchema.parse(r.action).kind).toBe('eip3009')
        else expect(r.code).toMatch(/^sign_(eip3009_shape_invalid|from_not_wallet)$/)
      }),
      { numRuns: 2000 },
    )
  })
})
