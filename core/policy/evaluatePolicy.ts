import { decidePolicy } from './decidePolicy.js'
import type { EvaluatePolicyParameters, PolicyVerdict } from './evalTypes.js'

export type { EvaluatePolicyParameters, PolicyVerdict } from './evalTypes.js'

/**
 * decidePolicy without a trace (the enclave calls decidePolicy itself; this name stays for tests, the console and
 * the CLI). Decides one request against the policy and the ledger, synchronously and
 * deterministically (the only clock is `now`). The ledger is read, never
 * written: whatever the verdict, the caller applies `verdict.events` to the
 * ledger in the same step it records the audit entry (the enclave is
 * single-threaded per wallet, so decide + apply is atomic). For 'allow' the
 * events include the spend: budget counts from the moment a signature leaves.
 */
export function evaluatePolicy(params: EvaluatePolicyParameters): PolicyVerdict {
  return decidePolicy(params)
}
