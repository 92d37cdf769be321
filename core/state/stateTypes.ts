import type { LedgerEvent } from '../ledger/LedgerEvent.js'
import type { SpendLedger } from '../ledger/SpendLedger.js'
import type { WalletChange } from '../owner/applyWalletChange.js'
import type { ACT_CLASSES } from '../../shared/governance/decisionSchema.js'

/** In-memory shapes of the enclave's trusted state (what sealed snapshots hold). */
export type AgentRecord = {
  agentId: string
  publicKey: Uint8Array // raw Ed25519, 32 bytes
  label: string
  status: 'active' | 'revoked'
  registeredAt: number
}

export type PolicyRecord = {
  agentId: string
  /** The canonical JSON of the policy (canonicalJson of the parsed policy: exactly what the owner's hash covers). */
  json: string
  version: number
  hash: `0x${string}`
  /** Revoked by the owner: the agent is refused until a newer policy is set. */
  revoked?: boolean
}

/** The wallet-level policy (shared/schemas/walletPolicy.ts): wallet-wide caps across all agents. */
export type WalletPolicyRecord = { json: string; version: number; hash: `0x${string}` }

/** Classes of owner acts, each with its own m-of-n threshold (core/owner/quorum.ts). */
export type ActClass = (typeof ACT_CLASSES)[number]

/** Several owner keys and a threshold per class of act; absent: the creating owner alone, every threshold 1. */
export type Governance = { owners: `0x${string}`[]; thresholds: Record<ActClass, number>; delayMs: number; approveAbove?: ApproveAbove[] | undefined; prevDelay?: { ms: number; until: number } | undefined }
/** Approving a pending request that spends more than `above` of (chainId, asset: lowercase, `native` for the coin) needs `quorum` owners. */
export type ApproveAbove = { chainId: number; asset: string; above: string; quorum: number }
/** An amount of a ruled (chainId, asset) approved with fewer owners than the rule's quorum, counted for 24 h (core/owner/quorum.ts). */
export type LoneApproval = { chainId: number; asset: string; amount: string; at: number }

/** An owner act waiting for more owners' signatures (each checked on arrival; it dies when any act moves the seq). */
export type Proposal = {
  actHash: `0x${string}`
  primaryType: string
  /** The signed EIP-712 message as JSON (what every co-signer signs again, seq included). */
  message: string
  /** SetPolicy / SetWalletPolicy: the canonical policy text its hash covers. */
  policy: string | null
  actClass: ActClass
  threshold: number
  signers: `0x${string}`[]
  seq: number
  createdAt: number
  expiresAt: number
}

/** A widening policy act accepted by the owners' quorum, waiting out the wallet's delay (core/owner/timeLock.ts). */
export type Scheduled = {
  actHash: `0x${string}`
  /** The agent whose policy it replaces, or null for the wallet policy. */
  agentId: string | null
  policy: PolicyRecord | WalletPolicyRecord
  /** What it widens (core/owner/policyWidening.ts). */
  widens: string[]
  scheduledAt: number
  effectiveAt: number
}

/** Non-custodial exit agreed by the owners (core/owner/keyExit.ts): once due, the wallet signs nothing more. */
export type KeyExit = { actHash: `0x${string}`; recipientKey: `0x${string}`; scheduledAt: number; effectiveAt: number; collectedAt?: number | undefined }

/** An unfreeze, permit or budget credit accepted by the owners' quorum, waiting out the wallet's delay (core/owner/heldActs.ts). */
export type HeldAct = { actHash: `0x${string}`; primaryType: string; message: string; signer: `0x${string}`; agentId: string; scheduledAt: number; effectiveAt: number }

export type WalletRecord = {
  address: `0x${string}`
  privateKey: Uint8Array // secp256k1 scalar, never leaves the enclave unsealed
  owner: `0x${string}`
  label: string
  createdAt: number
  /** Owner acts applied to this wallet; the next act must carry ownerSeq + 1. */
  ownerSeq: number
  /** Set when an owner act proves the state was rolled back; signing stops until Resync. */
  rolledBack: boolean
  agents: Map<string, AgentRecord>
  policies: Map<string, PolicyRecord>
  /** Owner-signed wallet-level policy; absent: no wallet-wide caps. */
  walletPolicy?: WalletPolicyRecord | undefined
  governance?: Governance | undefined
  proposals?: Proposal[] | undefined
  scheduled?: Scheduled[] | undefined
  exit?: KeyExit | undefined
  held?: HeldAct[] | undefined
  loneApproved?: LoneApproval[] | undefined
  /** The wallet's spend ledger (pending requests, permits, freezes, rolling windows). */
  ledger: SpendLedger
}

/** The ledger as handlers and the core read it: every query, not its mutator. */
export type LedgerView = Omit<SpendLedger, 'apply'>

/** A wallet as handlers and the core read it; changes go through `EnclaveState.apply`. */
export type WalletView = Readonly<Omit<WalletRecord, 'agents' | 'policies' | 'ledger'>> & {
  readonly agents: ReadonlyMap<string, Readonly<AgentRecord>>
  readonly policies: ReadonlyMap<string, Readonly<PolicyRecord>>
  readonly ledger: LedgerView
}

/**
 * Every change to the enclave's sealed state, as a value: computed by the pure core (owner acts, policy verdicts)
 * or by loading, and applied by `EnclaveState.apply`, the one mutator, inside the single writer.
 */
export type StateChange =
  | { type: 'loaded'; stateVersion: number; wallets: WalletRecord[]; createNonces: Array<[string, number]>; versions?: Array<[string, number]> }
  | { type: 'version_bumped' }
  /** A new wallet; CreateWallet nonces issued before `pruneBefore` are forgotten (their window is long past). */
  | { type: 'wallet_created'; wallet: WalletRecord; nonce: string; issuedAt: number; pruneBefore: number }
  | { type: 'wallet_changed'; wallet: string; change: WalletChange }
  /** Ledger events, schema-checked as they are applied; `built` (cpu39): the core's own, typed, applied as they are. */
  | { type: 'ledger'; wallet: string; events: readonly unknown[]; built?: boolean }
  | { type: 'owner_seq'; wallet: string; ownerSeq: number; rolledBack: boolean }
  /** Issue 15 step 3: a wallet loaded from its blob (at the blob's version; the next seal re-seals it) or dropped. */
  | { type: 'wallet_added'; wallet: WalletRecord; version: number }
  | { type: 'wallet_dropped'; wallet: string }
