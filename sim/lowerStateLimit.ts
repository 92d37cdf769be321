import { OWNER_LIMITS } from '../shared/owner/ownerLimits.js'

/**
 * Tests only (scope38): a lower soft state limit for a simulated signer and its governance process (both read
 * BURSAR_SIM_STATE_SOFT_BYTES), so a test reaches the limit with KiBs of state rather than 15 MiB. It can only lower
 * the limit, and sim/ is never in the Nitro image (enclave/main.ts cannot reach it: scripts/checkBoundaries.ts).
 */
export function lowerStateLimit(bytes: number | undefined, log: (line: string) => void): void {
  if (bytes === undefined || bytes >= OWNER_LIMITS.stateSoftBytes) return
  ;(OWNER_LIMITS as { stateSoftBytes: number }).stateSoftBytes = bytes
  log(`*** STATE SOFT LIMIT LOWERED to ${bytes} bytes (tests only) ***`)
}
