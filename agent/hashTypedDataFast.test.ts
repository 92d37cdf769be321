import fc from 'fast-check'
import { type TypedDataDefinition, bytesToHex, hashTypedData } from 'viem'
import { describe, expect, it } from 'vitest'
import { EIP3009_FIELDS } from '../shared/schemas/eip3009Types.js'
import { hashTypedDataFast } from './hashTypedDataFast.js'

const USDC = '0x036CbD53842c5426634e7929541eC2318f3dCF7e'
const PAY_TO = '0x209693Bc6afc0C5328bA36FaF03C514EF312287C'
const same = (td: unknown) => expect(bytesToHex(hashTypedDataFast(td as TypedDataDefinition))).toBe(hashTypedData(td as TypedDataDefinition))

describe('hashTypedDataFast equals viem hashTypedData', () => {
  it('EIP-3009 (the x402 exact payment), repeated with a fresh types object each time', () => {
    for (let i = 0; i < 5; i++)
      same({
        domain: { name: 'USDC', version: '2', chainId: 84532, verifyingContract: USDC },
        types: { TransferWithAuthorization: [...EIP3009_FIELDS] },
        primaryType: 'TransferWithAuthorization',
        message: { from: USDC, to: PAY_TO, value: 10_000n + BigInt(i), validAfter: 0n, validBefore: 2n ** 64n, nonce: `0x${String(i).repeat(64)}` },
      })
  })

  it('Permit2 PermitTransferFrom (nested struct) and the EIP-712 Mail example (strings, nested structs)', () => {
    same({
      domain: { name: 'Permit2', chainId: 1n, verifyingContract: '0x000000000022D473030F116dDEE9F6B43aC78BA3' },
      types: {
        PermitTransferFrom: [
          { name: 'permitted', type: 'TokenPermissions' },
          { name: 'spender', type: 'address' },
          { name: 'nonce', type: 'uint256' },
          { name: 'deadline', type: 'uint256' },
        ],
        TokenPermissions: [
          { name: 'token', type: 'address' },
          { name: 'amount', type: 'uint256' },
        ],
      },
      primaryType: 'PermitTransferFrom',
      message: { permitted: { token: USDC, amount: 5n }, spender: PAY_TO, nonce: 7n, deadline: 99n },
    })
    same({
      domain: { name: 'Ether Mail', version: '1', chainId: 1, verifyingContract: '0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC' },
      types: {
        Person: [
          { name: 'name', type: 'string' },
          { name: 'wallet', type: 'address' },
        ],
        Mail: [
          { name: 'from', type: 'Person' },
          { name: 'to', type: 'Person' },
          { name: 'contents', type: 'string' },
        ],
      },
      primaryType: 'Mail',
      message: {
        from: { name: 'Cow', wallet: '0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826' },
        to: { name: 'Bob', wallet: '0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB' },
        contents: 'Hello, Bob! ✓',
      },
    })
  })

  it('every atomic type, negative ints, and domains of every shape (salt, no chainId, bigint chainId, empty)', () => {
    const types = {
      All: [
        { name: 'a', type: 'bool' },
        { name: 'b', type: 'int8' },
        { name: 'c', type: 'int256' },
        { name: 'd', type: 'uint256' },
        { name: 'e', type: 'bytes' },
        { name: 'f', type: 'bytes1' },
        { name: 'g', type: 'bytes32' },
        { name: 'h', type: 'string' },
        { name: 'i', type: 'address' },
      ],
    }
    const message = { a: true, b: -128, c: -(2n ** 255n), d: 2n ** 256n - 1n, e: '0xdeadbeef', f: '0x01', g: `0x${'ab'.repeat(32)}`, h: '', i: PAY_TO }
    for (const domain of [
      { name: 'x', version: '1', chainId: 1, verifyingContract: USDC, salt: `0x${'cd'.repeat(32)}` },
      { name: 'x' },
      { chainId: 10n },
      {},
    ])
      same({ domain, types, primaryType: 'All', message })
  })

  it('falls back to viem for arrays and for an explicit EIP712Domain, and throws what viem throws for bad values', () => {
    same({
      domain: { name: 'x' },
      types: { Batch: [{ name: 'items', type: 'uint256[]' }] },
      primaryType: 'Batch',
      message: { items: [1n, 2n] },
    })
    same({
      domain: { name: 'x', chainId: 1 },
      types: { EIP712Domain: [{ name: 'name', type: 'string' }, { name: 'chainId', type: 'uint256' }], M: [{ name: 'v', type: 'uint8' }] },
      primaryType: 'M',
      message: { v: 1 },
    })
    const bad = (types: Record<string, { name: string; type: string }[]>, message: Record<string, unknown>) =>
      ({ domain: { name: 'x' }, types, primaryType: 'M', message }) as unknown as TypedDataDefinition
    for (const td of [
      bad({ M: [{ name: 'v', type: 'uint8' }] }, { v: 256 }),
      bad({ M: [{ name: 'v', type: 'uint' }] }, { v: 1n }),
      bad({ M: [{ name: 'v', type: 'address' }] }, { v: '0x209693bc6afc0c5328ba36faf03c514ef312287C' }), // bad EIP-55 checksum
      bad({ M: [{ name: 'v', type: 'bytes4' }] }, { v: '0x0102' }),
      bad({ M: [{ name: 'v', type: 'bool' }], Unused: [{ name: 'w', type: 'uint7' }] }, { v: true }),
      bad({ M: [{ name: 'v', type: 'Nope' }] }, { v: {} }),
    ]) {
      const viemError = (() => {
        try {
          hashTypedData(td)
        } catch (e) {
          return (e as Error).name
        }
      })()
      expect(viemError, JSON.stringify(td.types)).toBeDefined()
      expect(() => hashTypedDataFast(td), JSON.stringify(td.types)).toThrow()
    }
  })

  it('random structs of atomic and nested types (property)', () => {
    const atomic = fc.oneof(
      fc.record({ type: fc.constant('address'), v: fc.uint8Array({ minLength: 20, maxLength: 20 }).map((b) => bytesToHex(b)) }),
      fc.record({ type: fc.constant('uint256'), v: fc.bigInt({ min: 0n, max: 2n ** 256n - 1n }) }),
      fc.record({ type: fc.constant('int64'), v: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }) }),
      fc.record({ type: fc.constant('bool'), v: fc.boolean() }),
      fc.record({ type: fc.constant('string'), v: fc.string() }),
      fc.record({ type: fc.constant('bytes'), v: fc.uint8Array({ maxLength: 80 }).map((b) => bytesToHex(b)) }),
      fc.record({ type: fc.constant('bytes4'), v: fc.uint8Array({ minLength: 4, maxLength: 4 }).map((b) => bytesToHex(b)) }),
    )
    fc.assert(
      fc.property(fc.array(atomic, { minLength: 1, maxLength: 6 }), fc.array(atomic, { minLength: 1, maxLength: 4 }), (outer, inner) => {
        const types = {
          Inner: inner.map((f, i) => ({ name: `i${i}`, type: f.type })),
          Outer: [...outer.map((f, i) => ({ name: `o${i}`, type: f.type })), { name: 'nested', type: 'Inner' }],
        }
        const message = {
          ...Object.fromEntries(outer.map((f, i) => [`o${i}`, f.v])),
          nested: Object.fromEntries(inner.map((f, i) => [`i${i}`, f.v])),
        }
        same({ domain: { name: 'prop', chainId: 5 }, types, primaryType: 'Outer', message })
      }),
      { numRuns: 300, seed: 22 },
    )
  })
})
