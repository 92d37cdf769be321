import fc from 'fast-check'
import { type Hex, bytesToHex, hexToBytes, keccak256, recoverAddress, serializeTransaction } from 'viem'
import { privateKeyToAddress, sign } from 'viem/accounts'
import { describe, expect, it } from 'vitest'
import { EnclaveError } from '../../shared/errors/EnclaveError.js'
import { MOCK_PAY_TO, MOCK_PRIVATE_KEY } from '../../test/helpers/mockSignRequest.js'
import { signPlan } from './signPlan.js'
import type { SigningPlan } from '../../core/decode/signingPlan.js'

const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n

describe('signPlan', () => {
  it('matches viem sign() byte for byte for random keys and digests, and recovers', async () => {
    const key = fc.bigInt({ min: 1n, max: N - 1n }).map((d) => `0x${d.toString(16).padStart(64, '0')}` as Hex)
    const digest = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => bytesToHex(b))
    await fc.assert(
      fc.asyncProperty(key, digest, async (privateKey, hash) => {
        const out = signPlan({ privateKey, plan: { kind: 'message', digest: hash } })
        expect(out).toEqual({ signature: await sign({ hash, privateKey, to: 'hex' }), signedHash: hash })
        expect(await recoverAddress({ hash, signature: out.signature })).toBe(privateKeyToAddress(privateKey))
      }),
      { numRuns: 150 },
    )
  })

  it('takes the key as bytes or hex', () => {
    const plan: SigningPlan = { kind: 'typedData', digest: keccak256('0x01') }
    expect(signPlan({ privateKey: hexToBytes(MOCK_PRIVATE_KEY), plan })).toEqual(signPlan({ privateKey: MOCK_PRIVATE_KEY, plan }))
  })

  it('refuses a transaction plan whose digest is not its transaction', () => {
    const transaction = { type: 'eip1559', chainId: 1, nonce: 0, to: MOCK_PAY_TO, gas: 21000n, maxFeePerGas: 2n, maxPriorityFeePerGas: 1n, value: 1n } as const
    const digest = keccak256(serializeTransaction(transaction))
    expect(signPlan({ privateKey: MOCK_PRIVATE_KEY, plan: { kind: 'transaction', digest, transaction } }).serializedTransaction).toMatch(/^0x02/)
    const tampered = { ...transaction, value: 10n ** 18n }
    expect(() => signPlan({ privateKey: MOCK_PRIVATE_KEY, plan: { kind: 'transaction', digest, transaction: tampered } })).toThrow(
      expect.objectContaining({ code: 'sign_plan_inconsistent' }),
    )
  })

  it('throws typed errors for bad digests and keys, without the key in the message', () => {
    const plan: SigningPlan = { kind: 'message', digest: keccak256('0x') }
    expect(() => signPlan({ privateKey: MOCK_PRIVATE_KEY, plan: { kind: 'message', digest: '0x1234' } })).toThrow(EnclaveError)
    for (const bad of [new Uint8Array(32), hexToBytes(`0x${N.toString(16)}`), new Uint8Array(31)]) {
      let err: unknown
      try {
        signPlan({ privateKey: bad, plan })
      } catch (e) {
        err = e
      }
      expect(err).toBeInstanceOf(EnclaveError)
      expect((err as EnclaveError).code).toBe('sign_key_invalid')
      expect(String((err as Error).message)).not.toContain(bytesToHex(bad).slice(2, 20))
    }
  })
})
