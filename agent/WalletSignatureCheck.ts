import { secp256k1 } from '@noble/curves/secp256k1'
import { keccak_256 } from '@noble/hashes/sha3.js'
import { type Address, type Hex, getAddress, isAddressEqual } from 'viem'
import { AGENT_ERROR_CODES, BursarRequestError } from './errors.js'
import { type Secp256k1Engine, recoverSecp256k1 } from './recoverSecp256k1.js'

const SIGNATURE = /^0x[0-9a-fA-F]{130}$/
// n / 2 for secp256k1: the enclave signs in low-s form only (as EIP-2 and OpenZeppelin's ECDSA require).
const HALF_N = Buffer.from('7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0', 'hex')

/**
 * The SDK's proof that an answer is the wallet's (SECURITY: the host is
 * untrusted). The first answer's public key is recovered and accepted only if
 * it hashes to the wallet address; it is then kept, and every later answer
 * must recover to exactly those key bytes — a native libsecp256k1 recovery
 * and a byte compare instead of a pure-JS recovery plus keccak per answer.
 * A key never proven to be the wallet's is never kept.
 */
export class WalletSignatureCheck {
  #publicKey: Uint8Array | undefined

  constructor(
    readonly address: Address,
    private readonly engine?: Secp256k1Engine | undefined,
  ) {}

  /** The wallet's public key (65-byte uncompressed), once an answer has proven it. */
  get publicKey(): Uint8Array | undefined {
    return this.#publicKey
  }

  /** Throws a typed error unless `signature` (r ‖ s ‖ v, 65 bytes hex) is the wallet's, in low-s form, over `digest`. */
  check(digest: Uint8Array, signature: Hex, what: string): void {
    if (typeof signature !== 'string' || !SIGNATURE.test(signature))
      throw new BursarRequestError(AGENT_ERROR_CODES.response_invalid, `bursar host sent a malformed ${what} signature`)
    const bytes = Buffer.from(signature.slice(2), 'hex')
    const v = bytes[64]!
    const recoveryBit = v === 27 || v === 0 ? 0 : v === 28 || v === 1 ? 1 : undefined
    if (recoveryBit === undefined)
      throw new BursarRequestError(AGENT_ERROR_CODES.response_invalid, `bursar host sent a ${what} signature with v = ${v}`)
    if (Buffer.compare(bytes.subarray(32, 64), HALF_N) > 0)
      throw new BursarRequestError(AGENT_ERROR_CODES.response_invalid, `bursar host sent a high-s ${what} signature (the enclave signs low-s only)`)
    const pub = recoverSecp256k1({ digest, rs: bytes.subarray(0, 64), recoveryBit, engine: this.engine })
    if (pub && this.#publicKey) {
      if (Buffer.compare(pub, this.#publicKey) === 0) return
    } else if (pub && isAddressEqual(addressOf(pub), this.address)) {
      this.#publicKey = pub
      return
    }
    throw new BursarRequestError(
      AGENT_ERROR_CODES.response_signer_mismatch,
      `bursar host returned a ${what} signature from ${pub ? addressOf(pub) : 'no valid key'}, not ${this.address}`,
    )
  }
}

function addressOf(publicKey: Uint8Array): Address {
  const uncompressed = publicKey.length === 65 ? publicKey : secp256k1.ProjectivePoint.fromHex(publicKey).toRawBytes(false)
  return getAddress(`0x${Buffer.from(keccak_256(uncompressed.subarray(1)).subarray(12)).toString('hex')}`)
}
