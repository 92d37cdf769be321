import { recoverTypedDataAddress } from 'viem'
import { OwnerActMessageSchemas, isOwnerActType } from '../../shared/owner/ownerActTypes.js'
import { ownerTypedData } from '../../shared/owner/ownerTypedData.js'
import type { OwnerActBody } from '../../shared/protocol/messages.js'

/** `seq`: the act's owner sequence (null for a new wallet's act, which has none); a new wallet's act's `nonce` (lowercase) and `issuedAt` (ms). */
export type ActSigner = { primaryType: string; signer: string; wallet: string; seq: number | null; nonce: string | null; issuedAt: number | null }
const recovered = new WeakMap<OwnerActBody, Promise<ActSigner | null>>()

/**
 * UNTRUSTED, host-only: the address an owner act's signature recovers to (lowercase) and the wallet it names, or null
 * (not an act, its message does not parse, no signature recovers). Only the order of the host's own relay queue reads
 * it (relayOwnerAct, KnownOwners); the signer and governance verify every act. One recovery per act: the answer is
 * kept per body object, so the relay's checks on one act share it (owners40: one cache asks once per act).
 */
export function ownerActSigner(body: OwnerActBody): Promise<ActSigner | null> {
  let r = recovered.get(body)
  if (!r) recovered.set(body, (r = recover(body)))
  return r
}

async function recover(body: OwnerActBody): Promise<ActSigner | null> {
  try {
    if (!isOwnerActType(body.primaryType)) return null
    const m = OwnerActMessageSchemas[body.primaryType].safeParse(JSON.parse(body.message))
    if (!m.success) return null
    const parsed = m.data as Record<string, unknown>
    const td = ownerTypedData(body.primaryType, parsed)
    // biome-ignore lint/suspicious/noExplicitAny: the act's fixed types, built above
    const signer = (await recoverTypedDataAddress({ ...(td as any), signature: body.signature as `0x${string}` })).toLowerCase()
    return { primaryType: body.primaryType, signer, wallet: String(parsed.wallet ?? parsed.address ?? '').toLowerCase(), seq: typeof parsed.seq === 'string' ? Number(parsed.seq) : null, ...newWalletNonce(parsed) }
  } catch {
    return null
  }
}

function newWalletNonce(m: Record<string, unknown>): { nonce: string | null; issuedAt: number | null } {
  return typeof m.nonce === 'string' && typeof m.issuedAt === 'string' ? { nonce: m.nonce.toLowerCase(), issuedAt: Number(m.issuedAt) } : { nonce: null, issuedAt: null }
}
