/**
 * TRUST: the only place a wallet key signs. It signs the digest of a plan
 * built by decodeSignRequest, synchronously, exactly as viem's local account
 * would (RFC 6979 deterministic nonce, low-s, v = 27 + yParity), with
 * libsecp256k1 when its binding loads (secp256k1Engine.ts).
 */
import { type Hex, bytesToHex, concatBytes, hexToBytes, keccak256, serializeTransaction } from 'viem'
import { EnclaveError } from '../../shared/errors/EnclaveError.js'
import type { SigningPlan } from '../../core/decode/signingPlan.js'
import { type RawSignature, type SignEngine, signDigest } from './secp256k1Engine.js'

export type SignPlanParameters = { privateKey: Uint8Array | Hex; plan: SigningPlan; engine?: SignEngine }
export type SignPlanReturnType = { signature: Hex; signedHash: Hex; serializedTransaction?: Hex }

const DIGEST = /^0x[0-9a-fA-F]{64}$/

/** Signs a decoded plan's digest with a wallet key; for a transaction, also returns the signed EIP-1559 serialization. */
export function signPlan({ privateKey, plan, engine }: SignPlanParameters): SignPlanReturnType {
  if (!DIGEST.test(plan.digest)) throw new EnclaveError('sign_plan_inconsistent', 'Plan digest is not 32 bytes')
  if (plan.kind === 'transaction') {
    // SECURITY: the transaction that gets serialized must be the one whose hash is signed.
    if (keccak256(serializeTransaction(plan.transaction)) !== plan.digest.toLowerCase()) {
      throw new EnclaveError('sign_plan_inconsistent', 'Plan digest does not match its transaction')
    }
  }
  const key = typeof privateKey === 'string' ? hexToBytes(privateKey) : privateKey
  if (key.length !== 32) throw new EnclaveError('sign_key_invalid', 'Private key is not 32 bytes')
  let sig: RawSignature
  try {
    // The digest is already keccak (no prehash); RFC 6979 nonce, low-s, recovery bit.
    sig = signDigest(hexToBytes(plan.digest as Hex), key, engine)
  } catch (cause) {
    // The key stays out of the error: only the code and a fixed message.
    throw new EnclaveError('sign_key_invalid', 'Private key is not a valid secp256k1 scalar', { cause: scrub(cause) })
  }
  const { rs, yParity } = sig
  const signature = bytesToHex(concatBytes([rs, new Uint8Array([27 + yParity])]))
  if (plan.kind !== 'transaction') return { signature, signedHash: plan.digest }
  const serializedTransaction = serializeTransaction(plan.transaction, { r: bytesToHex(rs.subarray(0, 32)), s: bytesToHex(rs.subarray(32)), yParity })
  return { signature, signedHash: plan.digest, serializedTransaction }
}

function scrub(cause: unknown): string {
  return cause instanceof Error ? cause.name : 'unknown'
}
