import { secp256k1 } from '@noble/curves/secp256k1'
import fc from 'fast-check'
import { type Hex, type TypedDataDefinition, bytesToHex, hashTypedData, isAddressEqual, recoverTypedDataAddress } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { describe, expect, it } from 'vitest'
import { EIP3009_FIELDS } from '../shared/schemas/eip3009Types.js'
import { hashTypedDataFast } from './hashTypedDataFast.js'
import type { Secp256k1Engine } from './recoverSecp256k1.js'
import { WalletSignatureCheck } from './WalletSignatureCheck.js'

// Differential property test of the SDK's answer check (native libsecp256k1 recovery + compare with the learnt key)
// against viem's own pure-JS path (hashTypedData + recoverTypedDataAddress), on random wallet keys, random EIP-3009
// payments and random tampering of the signature the "host" returns. The check must accept exactly what viem says
// is the wallet's low-s signature over the payment the caller asked for, and refuse everything else.

const HALF_N = secp256k1.CURVE.n / 2n
const hex32 = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => bytesToHex(b))
const key = hex32.filter((k) => {
  const n = BigInt(k)
  return n > 0n && n < secp256k1.CURVE.n
})
const address = fc.uint8Array({ minLength: 20, maxLength: 20 }).map((b) => bytesToHex(b))
const payment = fc.record({
  chainId: fc.integer({ min: 1, max: 2 ** 40 }),
  verifyingContract: address,
  to: address,
  value: fc.bigInt({ min: 0n, max: 2n ** 256n - 1n }),
  validAfter: fc.bigInt({ min: 0n, max: 2n ** 64n }),
  validBefore: fc.bigInt({ min: 0n, max: 2n ** 64n }),
  nonce: hex32,
})
/** How the host tampers with the wallet's genuine answer: none, one flipped bit (r, s or v byte), v swapped, high-s twin, another key, another payment. */
const tamper = fc.oneof(
  fc.constant({ kind: 'none' as const }),
  fc.record({ kind: fc.constant('bit' as const), bit: fc.integer({ min: 0, max: 64 * 8 + 7 }) }),
  fc.constant({ kind: 'v' as const }),
  fc.constant({ kind: 'highS' as const }),
  fc.record({ kind: fc.constant('otherKey' as const), key }),
  fc.constant({ kind: 'otherPayment' as const }),
)

type Typed = TypedDataDefinition
type Payment = { chainId: number; verifyingContract: Hex; to: Hex; value: bigint; validAfter: bigint; validBefore: bigint; nonce: Hex }
const typedOf = (from: Hex, p: Payment) =>
  ({
    domain: { name: 'USDC', version: '2', chainId: p.chainId, verifyingContract: p.verifyingContract },
    types: { TransferWithAuthorization: EIP3009_FIELDS },
    primaryType: 'TransferWithAuthorization',
    message: { from, to: p.to, value: p.value, validAfter: p.validAfter, validBefore: p.validBefore, nonce: p.nonce },
  }) as unknown as Typed

function applyTamper(sig: Hex, t: { kind: string; bit?: number }): Hex {
  const b = Buffer.from(sig.slice(2), 'hex')
  if (t.kind === 'bit') b[Math.floor(t.bit! / 8)]! ^= 1 << (t.bit! % 8)
  if (t.kind === 'v') b[64] = b[64] === 27 ? 28 : 27
  if (t.kind === 'highS') {
    const s = BigInt(`0x${b.subarray(32, 64).toString('hex')}`)
    Buffer.from((secp256k1.CURVE.n - s).toString(16).padStart(64, '0'), 'hex').copy(b, 32)
    b[64] = b[64] === 27 ? 28 : 27
  }
  return `0x${b.toString('hex')}`
}

describe.each<Secp256k1Engine>(['libsecp256k1', 'noble'])('WalletSignatureCheck agrees with viem (%s)', (engine) => {
  it('on random keys, payments and tampered answers: accepted exactly when viem recovers the wallet from a low-s signature over the asked payment', async () => {
    let accepted = 0
    let refused = 0
    await fc.assert(
      fc.asyncProperty(key, payment, payment, tamper, fc.boolean(), async (walletKey, asked, other, t, learnFirst) => {
        const wallet = privateKeyToAccount(walletKey as Hex)
        const check = new WalletSignatureCheck(wallet.address, engine)
        const typed = typedOf(wallet.address, asked)
        // The SDK's own digest equals viem's.
        const digest = hashTypedDataFast(typed)
        expect(bytesToHex(digest)).toBe(hashTypedData(typed))
        if (learnFirst) check.check(digest, await wallet.signTypedData(typed as never), 'typed-data')
        const signer = t.kind === 'otherKey' ? privateKeyToAccount(t.key as Hex) : wallet
        const signed = await signer.signTypedData((t.kind === 'otherPayment' ? typedOf(wallet.address, other) : typed) as never)
        const answer = applyTamper(signed, t)
        // viem's verdict, independent of the SDK's engines.
        const s = BigInt(`0x${answer.slice(66, 130)}`)
        const v = Number.parseInt(answer.slice(130), 16)
        let viemSays = false
        if (s <= HALF_N && (v === 27 || v === 28)) {
          const recovered = await recoverTypedDataAddress({ ...typed, signature: answer } as Parameters<typeof recoverTypedDataAddress>[0]).catch(() => null)
          viemSays = recovered !== null && isAddressEqual(recovered, wallet.address)
        }
        let sdkSays = true
        try {
          check.check(digest, answer, 'typed-data')
        } catch (e) {
          sdkSays = false
          expect(['response_signer_mismatch', 'response_invalid']).toContain((e as { code?: string }).code)
        }
        expect(sdkSays).toBe(viemSays)
        if (t.kind === 'none') expect(sdkSays).toBe(true)
        if (sdkSays) accepted++
        else refused++
      }),
      { numRuns: 150 },
    )
    // Both sides of the property were exercised.
    expect(accepted).toBeGreaterThan(10)
    expect(refused).toBeGreaterThan(10)
  })
})
