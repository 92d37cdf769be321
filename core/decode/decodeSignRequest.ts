/**
 * TRUST: the enclave's seam between what an agent asks and what gets signed.
 * The agent's description is never trusted: the structured request is decoded
 * and checked here, the digest is computed here, and signPlan signs exactly it.
 */
import type { Address } from 'viem'
import type { AgentRequest } from '../../shared/schemas/agentRequest.js'
import { DecodedActionSchema } from '../../shared/schemas/decodedAction.js'
import type { TokenRegistryEntry } from '../../shared/schemas/tokenRegistry.js'
import { LONE_SURROGATE, decodeMessage } from './decodeMessage.js'
import { eip3009InBounds } from './eip3009InBounds.js'
import { decodeTransaction } from './decodeTransaction.js'
import { decodeTypedData } from './decodeTypedData.js'
import { type DecodeResult, deny } from './signingPlan.js'

export type DecodeSignRequestParameters = {
  /** Already parsed with AgentRequestSchema and signature-checked. */
  request: AgentRequest
  /** The wallet the agent is bound to (its key signs). */
  wallet: Address
  /** The policy's token registry: the only source of payment domains. */
  registry: readonly TokenRegistryEntry[]
}

/**
 * Decodes an agent's sign request into the action policy evaluates and the plan signPlan executes; refusals are values and it never throws.
 * SECURITY: every decoded action is checked against DecodedActionSchema here, before the writer: an action the audit
 * log or a pending summary could not hold (an over-long witness type name, an out-of-range field) is a typed refusal,
 * never a failure inside the writer.
 */
export function decodeSignRequest(params: DecodeSignRequestParameters): DecodeResult {
  const r = decodeUnchecked(params)
  if (!r.ok || eip3009InBounds(r.action)) return r // a payment's action by direct checks (cpu38); any other by the schema
  if (!DecodedActionSchema.safeParse(r.action).success) {
    return deny('sign_action_out_of_bounds', `The decoded ${r.action.kind} action exceeds the enclave's field bounds`)
  }
  // SECURITY: a lone surrogate is hashed as U+FFFD and changes in transit (CBOR, UTF-8): what is signed, audited and
  // shown to the owner must be exactly what was sent.
  if (hasLoneSurrogate(r.action)) return deny('sign_request_malformed', 'The request contains text that is not well-formed Unicode')
  return r
}

function hasLoneSurrogate(v: unknown): boolean {
  if (typeof v === 'string') return LONE_SURROGATE.test(v)
  if (Array.isArray(v)) return v.some(hasLoneSurrogate)
  if (typeof v === 'object' && v !== null) return Object.entries(v).some(([k, x]) => LONE_SURROGATE.test(k) || hasLoneSurrogate(x))
  return false
}

function decodeUnchecked({ request, wallet, registry }: DecodeSignRequestParameters): DecodeResult {
  try {
    if (request.wallet.toLowerCase() !== wallet.toLowerCase()) {
      return deny('sign_wallet_mismatch', 'Request names a different wallet')
    }
    const requirements = request.context?.requirements
    switch (request.op) {
      case 'signTypedData':
        return decodeTypedData({ typedData: request.typedData, wallet, registry, requirements, channel: request.context?.batchChannel, authCapture: request.context?.authCapture })
      case 'signTransaction':
        return decodeTransaction({ transaction: request.transaction, wallet, registry, requirements })
      case 'signMessage':
        return decodeMessage({ message: request.message })
      default:
        // SECURITY: there is no op that signs a caller-supplied digest.
        return deny('sign_op_unsupported', `Unsupported op ${String((request as { op?: unknown }).op).slice(0, 40)}`)
    }
  } catch {
    // Input that slipped past the schema (a bug upstream) is refused, never signed.
    return deny('sign_request_malformed', 'Request could not be decoded')
  }
}
