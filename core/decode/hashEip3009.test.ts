import fc from 'fast-check'
import { type Hex, getAddress, hashTypedData } from 'viem'
import { describe, expect, it } from 'vitest'
import { EIP3009_FIELDS } from '../../shared/schemas/eip3009Types.js'
import { type Eip3009PrimaryType, hashEip3009 } from './hashEip3009.js'

// Hex of n bytes in mixed case (the decoder passes addresses and nonces as the agent wrote them, validated).
const hexOf = (n: number) => fc.tuple(fc.uint8Array({ minLength: n, maxLength: n }), fc.uint8Array({ minLength: 2 * n, maxLength: 2 * n })).map(([b, up]) =>
  `0x${[...Buffer.from(b).toString('hex')].map((c, i) => ((up[i]! & 1) ? c.toUpperCase() : c)).join('')}` as Hex)
const uint256 = fc.oneof(fc.bigInt({ min: 0n, max: 2n ** 256n - 1n }), fc.bigInt({ min: 0n, max: 2n ** 64n }), fc.constantFrom(0n, 1n, 15n, 16n, 255n, 256n))

describe('hashEip3009', () => {
  it('is viem hashTypedData of the same authorization, on random fields (cpu18d: hex without substrings)', () => {
    fc.assert(fc.property(
      fc.constantFrom<Eip3009PrimaryType>('TransferWithAuthorization', 'ReceiveWithAuthorization'),
      hexOf(20), hexOf(20), hexOf(20), uint256, uint256, uint256, hexOf(32), fc.integer({ min: 1, max: 2 ** 40 }),
      (primaryType, asset, from, to, value, validAfter, validBefore, nonce, chainId) => {
        const entry = { chainId, asset: getAddress(asset), name: 'USD Coin', version: '2', decimals: 6 } // registry assets are checksummed
        const low = (a: Hex) => a.toLowerCase() as Hex // viem refuses a mixed-case address that is not its checksum
        const viem = hashTypedData({
          domain: { name: entry.name, version: entry.version, chainId, verifyingContract: low(asset) },
          types: { [primaryType]: [...EIP3009_FIELDS] },
          primaryType,
          message: { from: low(from), to: low(to), value, validAfter, validBefore, nonce },
        } as never)
        expect(hashEip3009({ entry, primaryType, from, to, value, validAfter, validBefore, nonce })).toBe(viem)
      },
    ), { numRuns: 300 })
  })
})
