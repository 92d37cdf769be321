import type { Enclave } from '../../enclave/Enclave.js'
import { type OwnerActParameters, applyOwnerAct as ownerAct, applyOwnerActDecision } from '../../enclave/owner/applyOwnerAct.js'
import type { HandlerResult } from '../../enclave/protocol/HandlerResult.js'
import { governLink } from '../../governance/governLink.js'

/**
 * Test helper (issue 12 stage B): an owner act on an in-process enclave (its handlers called as the old
 * applyOwnerAct was: a refusal throws) with governance called directly — the host's
 * relay (host/enclave/relayOwnerAct.ts) in one function: ownerAct → the view → governance → ownerActDecision.
 * The enclave's code has no way into governance/ any more (scripts/checkBoundaries.ts).
 */
export async function applyOwnerAct(enclave: Enclave, params: OwnerActParameters): Promise<HandlerResult> {
  return relayInProcess(enclave, params, await ownerAct(enclave, params))
}

/** Relays an ownerAct answer asking for governance to governance (in process) and its decision back; other answers as they are. */
export async function relayInProcess(enclave: Enclave, params: OwnerActParameters, first: HandlerResult): Promise<HandlerResult> {
  const r = first.ok ? (first.result as { needs?: string; view?: Uint8Array }) : null
  if (r?.needs !== 'governance') return first
  return applyOwnerActDecision(enclave, { ...params, decision: await governLink(enclave.linkKey, r.view!) })
}

/** The decision governance makes for a view, in process. */
export const decide = (enclave: Enclave, view: Uint8Array) => governLink(enclave.linkKey, view)
