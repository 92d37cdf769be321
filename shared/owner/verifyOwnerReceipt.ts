import { createPublicKey, verify } from 'node:crypto'
import type { OwnerReceipt } from '../protocol/messages.js'
import { ownerReceiptPayload } from './ownerReceipt.js'

/** True when `receipt` is signed by the Ed25519 key whose SPKI DER is `publicKeyHex`. */
export function isOwnerReceiptSigned(receipt: OwnerReceipt, publicKeyHex: string): boolean {
  try {
    const key = createPublicKey({ key: Buffer.from(publicKeyHex.replace(/^0x/, ''), 'hex'), format: 'der', type: 'spki' })
    const { signature, ...body } = receipt
    return verify(null, ownerReceiptPayload(body), key, Buffer.from(signature.slice(2), 'hex'))
  } catch {
    return false
  }
}
