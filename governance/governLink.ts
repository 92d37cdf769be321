import { EnclaveError } from '../shared/errors/EnclaveError.js'
import { DECISION_DOMAIN, VIEW_DOMAIN, linkHash, openLink, sealLink } from '../shared/governance/linkMac.js'
import type { OwnerActView } from '../shared/governance/ownerActView.js'
import { governOwnerAct } from './governOwnerAct.js'

/**
 * Governance's end of the link: checks the view's MAC (`bursar.gov.view.v1`: only the signer holds the link key),
 * decides, and answers with the decision MACed under `bursar.gov.decision.v1`, naming the hash of the view it read.
 */
export async function governLink(linkKey: Uint8Array, viewBytes: Uint8Array): Promise<Uint8Array> {
  const view = openLink(linkKey, VIEW_DOMAIN, viewBytes) as OwnerActView | null
  if (view?.v !== 1) throw new EnclaveError('governance_decision_invalid', 'The owner-act view is not MACed by this signer’s link key')
  const decided = await governOwnerAct(view)
  return sealLink(linkKey, DECISION_DOMAIN, { v: 1, viewHash: linkHash(viewBytes), ...decided })
}
