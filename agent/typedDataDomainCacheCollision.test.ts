import { type TypedDataDefinition, bytesToHex, hashTypedData } from 'viem'
import { describe, expect, it } from 'vitest'
import { EIP3009_FIELDS } from '../shared/schemas/eip3009Types.js'
import { hashTypedDataFast } from './hashTypedDataFast.js'

/**
 * The SDK checks the host's signature against ITS OWN digest (hashTypedDataFast), so that digest must be viem's for
 * whatever the caller passes. x402 domains come from a merchant's JSON (extra.name / extra.version): a domain field
 * that is an object or array must not share a cached domain separator with another one that String()s alike
 * ("[object Object]", "1,2"), or the SDK would accept the wallet's earlier signature under a domain (here: the real
 * version "2") for a request under another domain.
 */
const USDC = '0x036CbD53842c5426634e7929541eC2318f3dCF7e'
const PAY_TO = '0x209693Bc6afc0C5328bA36FaF03C514EF312287C'
const def = (domain: Record<string, unknown>): TypedDataDefinition =>
  ({
    domain,
    types: { TransferWithAuthorization: EIP3009_FIELDS },
    primaryType: 'TransferWithAuthorization',
    message: { from: USDC, to: PAY_TO, value: 10_000n, validAfter: 0n, validBefore: 2n ** 40n, nonce: `0x${'ab'.repeat(32)}` },
  }) as unknown as TypedDataDefinition
const fast = (d: TypedDataDefinition) => bytesToHex(hashTypedDataFast(d))

describe('typed-data domain cache collision (typedDataDomainCacheCollision)', () => {
  it('a version object that viem hashes as the real "2" does not lend its separator to another version object', () => {
    const real = def({ name: 'USDC', version: '2', chainId: 84532, verifyingContract: USDC })
    // From the merchant's JSON: viem hashes {"0":50,"length":1} (the byte "2") exactly as the string "2".
    const alias = def(JSON.parse(`{"name":"USDC","version":{"0":50,"length":1},"chainId":84532,"verifyingContract":"${USDC}"}`))
    const other = def(JSON.parse(`{"name":"USDC","version":{},"chainId":84532,"verifyingContract":"${USDC}"}`))
    expect(hashTypedData(alias)).toBe(hashTypedData(real))
    expect(hashTypedData(other)).not.toBe(hashTypedData(real))
    expect(fast(alias)).toBe(hashTypedData(alias))
    // Before the fix: the separator cached for `alias` under "[object Object]" was reused: the SDK's digest for
    // `other` was the real payment's, so the wallet's genuine signature of that payment was accepted for `other`.
    expect(fast(other)).toBe(hashTypedData(other))
    expect(fast(other)).not.toBe(hashTypedData(real))
  })

  it('every domain field as objects or arrays that String() alike: each hashed as viem does, in any order', () => {
    const values: unknown[] = [{}, { 0: 7, length: 1 }, { 0: 50, length: 1 }, [1, 2], '1,2', [[1], [2]], [0x31], null]
    for (const field of ['name', 'version', 'chainId', 'verifyingContract', 'salt'])
      for (const order of [values, [...values].reverse()])
        for (const v of order) {
          const d = def({ name: 'USDC', version: '2', chainId: 84532, verifyingContract: USDC, [field]: v })
          let want: string
          try {
            want = hashTypedData(d)
          } catch {
            expect(() => fast(d), `${field} = ${JSON.stringify(v)}`).toThrow()
            continue
          }
          expect(fast(d), `${field} = ${JSON.stringify(v)}`).toBe(want)
        }
  })
})
