import type { Hex, TransactionSerializableEIP1559 } from 'viem'
import type { DecodedAction } from '../../shared/schemas/decodedAction.js'
import type { SignCode } from './signCodes.js'

/**
 * What the enclave will sign, built only by `decodeSignRequest` from the
 * structured request: `digest` is computed inside the enclave, never taken
 * from the agent.
 */
export type SigningPlan =
  | { kind: 'typedData'; digest: Hex }
  | { kind: 'message'; digest: Hex }
  | { kind: 'transaction'; digest: Hex; transaction: TransactionSerializableEIP1559 }

/** A refusal as a value: stable code plus a short human message. */
export type SignDenial = { ok: false; code: SignCode; message: string }

/** The decoder's verdict: the decoded action for policy and the plan for the signer, or a denial. */
export type DecodeResult = { ok: true; action: DecodedAction; plan: SigningPlan } | SignDenial

/** Builds a denial value. */
export function deny(code: SignCode, message: string): SignDenial {
  return { ok: false, code, message: message.slice(0, 200) }
}
