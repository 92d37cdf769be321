import { randomBytes } from 'node:crypto'
import { secp256k1 } from '@noble/curves/secp256k1.js'
import { type Address, bytesToHex } from 'viem'
import { publicKeyToAddress } from 'viem/accounts'
import { publicKeyOf } from './secp256k1Engine.js'

const N = secp256k1.CURVE.n

/** Generates a wallet key inside the enclave from the OS CSPRNG, rejecting (not reducing) scalars outside [1, n-1]. */
export function generateSignerKey(): { privateKey: Uint8Array; address: Address } {
  for (;;) {
    const privateKey = new Uint8Array(randomBytes(32))
    const d = BigInt(bytesToHex(privateKey))
    if (d === 0n || d >= N) {
      privateKey.fill(0)
      continue
    }
    const publicKey = publicKeyOf(privateKey)
    return { privateKey, address: publicKeyToAddress(bytesToHex(publicKey)) }
  }
}
