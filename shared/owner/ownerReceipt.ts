import * as z from 'zod'
import { canonicalJson } from '../canonical/canonicalJson.js'

const hex = z.string().regex(/^0x[0-9a-fA-F]*$/)
const count = z.number().int().min(-1).max(Number.MAX_SAFE_INTEGER)

/**
 * What the enclave's attested receipt key (Ed25519) signs for every applied
 * owner act: which act (its EIP-712 digest), on which wallet, the wallet's
 * owner seq after it, the enclave's state version and audit head. Owner
 * tools keep these as high-water marks: a lower number later means the
 * enclave was rolled back; a missing or bad receipt means the host answered
 * without forwarding.
 */
export const OwnerReceiptBodySchema = z.strictObject({
  v: z.literal(1),
  act: z.string().max(64),
  /** EIP-712 digest of the act the owner signed (hashTypedData). */
  actHash: hex.length(66),
  wallet: hex.length(42),
  ownerSeq: count,
  stateVersion: count,
  auditHead: z.strictObject({ seq: count, hash: hex }),
  /** fix15 (issue 15 step 4): the chain `auditHead` and `stateVersion` belong to (absent: the root chain). */
  chain: z.string().regex(/^[0-9a-f]{32}$/).optional(),
  time: z.number().int().nonnegative(),
})
export type OwnerReceiptBody = z.infer<typeof OwnerReceiptBodySchema>

/** The exact bytes the receipt key signs: a domain tag and the canonical JSON of the body. */
export function ownerReceiptPayload(body: OwnerReceiptBody): Uint8Array {
  return new Uint8Array(Buffer.from(`bursar-owner-receipt:${canonicalJson(OwnerReceiptBodySchema.parse(body))}`, 'utf8'))
}

/** Signs a receipt body with the enclave's receipt key (`sign` = Ed25519 over the payload); OwnerReceiptSchema (verifyOwnerReceipt.ts) reads it. */
export function makeOwnerReceipt(body: OwnerReceiptBody, sign: (payload: Uint8Array) => Uint8Array) {
  return { ...body, signature: `0x${Buffer.from(sign(ownerReceiptPayload(body))).toString('hex')}` }
}

