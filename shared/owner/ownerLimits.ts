import { EnclaveError } from '../errors/EnclaveError.js'

/**
 * Bounds on the enclave's owner-driven state (docs/security.md, "Bounded
 * state"). Every state-growing owner act past one of these is refused with
 * the typed code beside it, before anything changes, so no owner — or
 * stranger who made himself one — can grow the sealed snapshot past the
 * frame limit. The worst-case snapshot these imply is computed in
 * enclave/state/snapshotBound.test.ts.
 */
const LIMITS = {
  /** Wallets in one enclave (also the attestation commitment's wallet list, ≤ 1000). */
  walletsTotal: [32, 'limit_wallets_total'],
  /** Wallets one owner address may create. */
  walletsPerOwner: [4, 'limit_wallets_per_owner'],
  /** Agents registered on one wallet (revoked ones count: their records stay for the audit). */
  agentsPerWallet: [16, 'limit_agents_per_wallet'],
  /** Canonical policy JSON (what the enclave stores and hashes), bytes. */
  policyBytes: [12 * 1024, 'limit_policy_size'],
  /** Permits of one agent still held in the ledger (live, or closed but not yet swept). */
  permitsPerAgent: [16, 'limit_permits_per_agent'],
  /** How far ahead an IssuePermit may expire (so closed permits age out of the ledger). */
  permitLifetimeMs: [30 * 86_400_000, 'limit_permit_lifetime'],
  /** CreateWallet nonces remembered (they expire after 20 minutes). */
  createNonces: [1024, 'limit_create_nonces'],
  /** Owner acts of one wallet waiting for more owners' signatures (each may hold a policy). */
  proposalsPerWallet: [3, 'limit_proposals_per_wallet'],
  /** Widening policy acts of one wallet waiting out its delay (each holds a policy). */
  scheduledPerWallet: [2, 'limit_scheduled_per_wallet'],
  /** Last sealed snapshot size above which state-growing owner acts are refused (half the snapshot limit). */
  stateSoftBytes: [15 * 1024 * 1024, 'limit_state_size'],
} as const satisfies Record<string, readonly [number, `limit_${string}`]>

/** A CreateWallet's issuedAt is within this of the enclave's clock; its nonce is remembered two windows (createNonces). */
export const CREATE_WINDOW_MS = 10 * 60_000

/**
 * Acts that add records to the sealed state (the others replace or remove): refused once the sealed state is past
 * stateSoftBytes, by governance on the view and again by the signer when the decision applies (scope38).
 */
export const STATE_GROWING: ReadonlySet<string> = new Set(['CreateWallet', 'ImportWallet', 'RegisterAgent', 'SetPolicy', 'SetWalletPolicy', 'SetOwners', 'SetApprovalQuorum', 'ExportKey', 'IssuePermit', 'CreditBudget'])

/** The limits by name (the error code per limit is beside it above; HTTP 429 per shared/errors/errorCodes.ts). */
export const OWNER_LIMITS = Object.fromEntries(Object.entries(LIMITS).map(([k, [v]]) => [k, v])) as { readonly [K in keyof typeof LIMITS]: (typeof LIMITS)[K][0] }

export function checkLimit(ok: boolean, which: keyof typeof LIMITS, message: string): void {
  if (!ok) throw new EnclaveError(LIMITS[which][1], message)
}

/** IssuePermit's bounds: lifetime, and permits of this agent still held in the ledger. */
export function checkIssuePermit(p: { expiresAt: number; now: number; agentId: string; held: number }): void {
  checkLimit(p.expiresAt <= p.now + OWNER_LIMITS.permitLifetimeMs, 'permitLifetimeMs', `A permit may expire at most ${OWNER_LIMITS.permitLifetimeMs / 86_400_000} days ahead`)
  checkLimit(p.held < OWNER_LIMITS.permitsPerAgent, 'permitsPerAgent', `Agent ${p.agentId} already has ${OWNER_LIMITS.permitsPerAgent} permits in the ledger (closed ones leave 27 h after they expire)`)
}
