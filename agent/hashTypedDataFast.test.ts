import { randomBytes } from 'node:crypto'
import { keccak_256 as nobleKeccak } from '@noble/hashes/sha3.js'
import fc from 'fast-check'
import { type TypedDataDefinition, bytesToHex, hashTypedData, keccak256 } from 'viem'
import { describe, expect, it } from 'vitest'
import { EIP3009_FIELDS } from '../shared/schemas/eip3009Types.js'
import { hashTypedDataFast, keccak_256 } from './hashTypedDataFast.js'

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

describe('the keccak-256 behind hashTypedDataFast (js-sha3)', () => {
  it('equals viem keccak256 / @noble/hashes byte for byte at every length 0–700, on Buffer views at any offset', () => {
    const pool = randomBytes(4096)
    for (let len = 0; len <= 700; len++) {
      const off = (len * 7) % 61
      const view = pool.subarray(off, off + len) // a Buffer view into a larger ArrayBuffer, as Buffer.from(string) gives
      const got = bytesToHex(keccak_256(view))
      expect(got, `length ${len}`).toBe(keccak256(new Uint8Array(view)))
      expect(got).toBe(bytesToHex(nobleKeccak(view)))
    }
  })

  it('random inputs (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), (b) => bytesToHex(keccak_256(b)) === bytesToHex(nobleKeccak(b))),
      { numRuns: 500, seed: 22 },
    )
  })
})

describe('hashTypedDataFast: the encoder cached by identity of a constant types object', () => {
  const domain = { name: 'USDC', version: '2', chainId: 84532, verifyingContract: USDC }
  const message = { from: USDC, to: PAY_TO, value: 10_000n, validAfter: 0n, validBefore: 2n ** 64n, nonce: `0x${'11'.repeat(32)}` }

  it('a types object reused and then changed in place between calls is hashed as it is now, never as it was', () => {
    const fields: { name: string; type: string }[] = EIP3009_FIELDS.map((f) => ({ ...f }))
    const types: Record<string, { name: string; type: string }[]> = { TransferWithAuthorization: fields }
    const td = () => ({ domain, types, primaryType: 'TransferWithAuthorization', message }) as unknown as TypedDataDefinition
    const seen = new Set<string>()
    const check = () => {
      same(td())
      same(td()) // the second call takes the identity hit
      seen.add(bytesToHex(hashTypedDataFast(td())))
    }
    check()
    fields[2]!.type = 'uint128' // a field's type
    check()
    fields[2]!.name = 'amount' // a field's name
    ;(message as Record<string, unknown>).amount = 10_000n
    check()
    fields.push({ name: 'memo', type: 'string' }) // a field added to the same array
    ;(message as Record<string, unknown>).memo = 'hi'
    check()
    fields.pop()
    check()
    types.TransferWithAuthorization = [...fields].reverse() // the array replaced
    check()
    types.Extra = [{ name: 'x', type: 'uint8' }] // an unreferenced struct (viem validates it too)
    check()
    types.Extra[0]!.type = 'uint7' // now invalid: viem throws, so must the fast path
    expect(() => hashTypedData(td())).toThrow()
    expect(() => hashTypedDataFast(td())).toThrow()
    delete types.Extra
    check()
    expect(seen.size).toBe(5) // initial, retyped, renamed, pushed, reversed (pop, Extra and its removal repeat earlier digests)
  })

  it('the same types object under another primaryType', () => {
    const types = { A: [{ name: 'v', type: 'uint256' }], B: [{ name: 'v', type: 'uint256' }, { name: 'w', type: 'bool' }] }
    for (let i = 0; i < 3; i++) {
      same({ domain, types, primaryType: 'A', message: { v: 1n, w: true } })
      same({ domain, types, primaryType: 'B', message: { v: 1n, w: true } })
    }
  })

  it('random mutations of one reused types object (property)', () => {
    const types: Record<string, { name: string; type: string }[]> = { M: [{ name: 'a', type: 'uint256' }] }
    const kinds = ['uint256', 'uint64', 'int32', 'bool', 'address', 'bytes32', 'string', 'bytes']
    const value = (t: string): unknown =>
      t === 'bool' ? true : t === 'address' ? PAY_TO : t === 'bytes32' ? `0x${'ab'.repeat(32)}` : t === 'string' ? 's' : t === 'bytes' ? '0x01' : 7n
    fc.assert(
      fc.property(fc.array(fc.record({ at: fc.nat(5), type: fc.constantFrom(...kinds), op: fc.constantFrom('set', 'push', 'rename') }), { maxLength: 8 }), (edits) => {
        for (const e of edits) {
          const fields = types.M!
          if (e.op === 'push' && fields.length < 6) fields.push({ name: `f${fields.length}`, type: e.type })
          else if (e.op === 'rename') fields[e.at % fields.length]!.name = `r${e.at}x${fields.length}`
          else fields[e.at % fields.length]!.type = e.type
          const message = Object.fromEntries(fields.map((f) => [f.name, value(f.type)]))
          same({ domain, types, primaryType: 'M', message })
        }
      }),
      { numRuns: 200, seed: 22 },
    )
  })
})
