import { type OwnerReceipt, type OwnerReceiptBody, ownerActHash, ownerReceiptPayload } from '../../shared/owner/ownerReceipt.js'
import type { Enclave } from '../Enclave.js'
import type { VerifiedOwnerAct } from './verifyOwnerAct.js'

/**
 * Signs the receipt of an applied owner act with the attested receipt key,
 * after its snapshot is sealed (so stateVersion and the audit head are the
 * ones the host must now keep). SECURITY: owner tools hold these as
 * high-water marks and detect a rolled-back enclave or a host that answers
 * without forwarding.
 */
export function signOwnerReceipt(enclave: Enclave, act: VerifiedOwnerAct, wallet: string, ownerSeq: number): OwnerReceipt {
  const head = enclave.audit.head()
  const body: OwnerReceiptBody = {
    v: 1,
    act: act.primaryType,
    actHash: ownerActHash(act.primaryType, act.message as Record<string, unknown>),
    wallet: wallet.toLowerCase(),
    ownerSeq,
    stateVersion: enclave.stateVersion,
    auditHead: { seq: head.seq, hash: head.hash },
    time: enclave.now(),
  }
  return { ...body, signature: `0x${Buffer.from(enclave.receiptSigner(ownerReceiptPayload(body))).toString('hex')}` }
}
