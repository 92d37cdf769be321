/**
 * Bounds on the enclave's owner-driven state (docs/security.md, "Bounded
 * state"). Every state-growing owner act past one of these is refused with
 * the typed code beside it, before anything changes, so no owner — or
 * stranger who made himself one — can grow the sealed snapshot past the
 * frame limit. The worst-case snapshot these imply is computed in
 * enclave/state/snapshotBound.test.ts.
 */
export const OWNER_LIMITS = {
  /** Wallets in one enclave (also the attestation commitment's wallet list, ≤ 1000). */
  walletsTotal: 32,
  /** Wallets one owner address may create. */
  walletsPerOwner: 4,
  /** Agents registered on one wallet (revoked ones count: their records stay for the audit). */
  agentsPerWallet: 16,
  /** Canonical policy JSON (what the enclave stores and hashes), bytes. */
  policyBytes: 12 * 1024,
  /** Permits of one agent still held in the ledger (live, or closed but not yet swept). */
  permitsPerAgent: 16,
  /** How far ahead an IssuePermit may expire (so closed permits age out of the ledger). */
  permitLifetimeMs: 30 * 86_400_000,
  /** CreateWallet nonces remembered (they expire after 20 minutes). */
  createNonces: 1024,
  /** Last sealed snapshot size above which state-growing owner acts are refused (half the snapshot limit). */
  stateSoftBytes: 15 * 1024 * 1024,
} as const

/** Error code per limit (shared/protocol/errorCodes.ts lists them; HTTP 429 in host/plugins/errorStatus.ts). */
export const LIMIT_CODES = {
  walletsTotal: 'limit_wallets_total',
  walletsPerOwner: 'limit_wallets_per_owner',
  agentsPerWallet: 'limit_agents_per_wallet',
  policyBytes: 'limit_policy_size',
  permitsPerAgent: 'limit_permits_per_agent',
  permitLifetimeMs: 'limit_permit_lifetime',
  createNonces: 'limit_create_nonces',
  stateSoftBytes: 'limit_state_size',
} as const satisfies Record<keyof typeof OWNER_LIMITS, `limit_${string}`>
