import * as z from 'zod'
import { DecodedActionSchema } from '../schemas/decodedAction.js'

/**
 * One audit-chain entry: the enclave appends one per decision. The entry's
 * hash (see `hashAuditEntry`) covers every field here; exports add `hash`
 * beside it. Byte layouts are specified in docs/audit.md.
 */
export const HASH_HEX_REGEX = /^0x[0-9a-f]{64}$/
const hash = z.string().regex(HASH_HEX_REGEX)
const anyCaseHash = z.string().regex(/^0x[0-9a-fA-F]{64}$/)
const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/)
/** A non-root chain's id: 16 random bytes as 32 lowercase hex (issue 15 step 4); the root chain's id is ''. */
export const CHAIN_ID_REGEX = /^[0-9a-f]{32}$/
export const ChainIdSchema = z.string().regex(/^(?:[0-9a-f]{32})?$/)
const uint = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER)

export const AUDIT_EVENTS = [
  'sign_allowed',
  'sign_denied',
  'sign_pending',
  'pending_approved',
  'pending_rejected',
  'pending_expired',
  'agent_registered',
  'agent_revoked',
  'agent_frozen',
  'agent_unfrozen',
  'policy_set',
  'policy_revoked',
  'wallet_policy_set',
  'owners_set',
  'owner_act_signed',
  'policy_scheduled',
  'scheduled_cancelled',
  'export_scheduled',
  'act_scheduled',
  'wallet_exported',
  'wallet_imported',
  'wallet_created',
  'wallet_resynced',
  'permit_issued',
  'budget_released',
  'enclave_started',
  'state_loaded',
  'wallet_dropped',
  'wallet_loaded',
  'chain_started',
] as const
export const AuditEventSchema = z.enum(AUDIT_EVENTS)
export type AuditEvent = z.infer<typeof AuditEventSchema>

export const AuditVerdictSchema = z.enum(['allow', 'deny', 'pending', 'info'])

export const AuditEntrySchema = z.strictObject({
  /** 0-based position in the chain. */
  seq: uint,
  /** Hash of the entry at seq - 1; GENESIS_HASH (32 zero bytes) for seq 0. */
  prevHash: hash,
  /** Enclave clock, ms since the epoch. */
  time: uint,
  event: AuditEventSchema,
  wallet: address.nullable(),
  agentId: z.string().max(128).nullable(),
  /** What the enclave decoded from the bytes it was asked to sign. */
  action: DecodedActionSchema.nullable(),
  /** Advisory resource URL the SDK reported (absent when none). */
  resourceUrl: z.string().max(2048).optional(),
  /** The agent's stated reason: data only, never interpreted. */
  reason: z.string().max(280).nullable(),
  policy: z.strictObject({ version: uint, hash: anyCaseHash }).nullable(),
  verdict: AuditVerdictSchema,
  rule: z.string().max(128).nullable(),
  code: z.string().max(128).nullable(),
  /** The 32-byte digest the enclave signed, if it signed. */
  signedHash: anyCaseHash.nullable(),
  requestId: z.string().max(128).nullable(),
  /** Opaque ledger events the enclave replays on restart; hashed, never interpreted here. */
  ledger: z.array(z.unknown()),
  stateVersion: uint,
  /**
   * Issue 15 step 2, the wallet's thread: entries naming a wallet carry its own sequence (1, 2, …) and the hash of
   * that wallet's previous entry (GENESIS_HASH for walletSeq 1). Absent on wallet-less entries and on entries written
   * before threads existed (docs/audit.md "Wallet threads").
   */
  walletSeq: uint.min(1).optional(),
  walletPrev: hash.optional(),
  /**
   * Issue 15 step 4, only on `chain_started` (seq 0 of a chain other than the root): the chain's id and the core id
   * (the cluster's lineage) it belongs to, so every later entry of the chain commits to both by its hash links.
   */
  chain: z.string().regex(CHAIN_ID_REGEX).optional(),
  core: z.string().regex(/^[0-9a-f]{32}$/).optional(),
})
export type AuditEntry = z.infer<typeof AuditEntrySchema>
/** What the appender supplies; the chain fills in seq, prevHash and the wallet's thread fields. */
export type AuditEntryBody = Omit<AuditEntry, 'seq' | 'prevHash' | 'walletSeq' | 'walletPrev' | 'chain' | 'core'>
/** A wallet's thread head: its last entry's walletSeq and entry hash (walletSeq 0 and GENESIS_HASH: no entry yet). */
export type WalletThreadHead = { walletSeq: number; hash: string }

/** A head of the chain: the entry hash at seq (seq -1 and GENESIS_HASH for an empty chain). */
export const AuditHeadSchema = z.strictObject({ seq: z.number().int().min(-1), hash })
export type AuditHead = z.infer<typeof AuditHeadSchema>

/** The enclave's Ed25519 signature over a head (see `auditCheckpointMessage`). */
export const AuditCheckpointSchema = z.strictObject({
  seq: uint,
  head: hash,
  time: uint,
  /** Issue 15 step 4: the chain the head is of (absent: the root chain); inside the signed message. */
  chain: z.string().regex(CHAIN_ID_REGEX).optional(),
  /** `0x` + 128 hex; a turn checkpoint's (turn18) adds `.index` and `.` + 64 hex per level, ≤ 32 (verifyAuditCheckpoint). */
  signature: z.string().regex(/^0x[0-9a-f]{128}(?:\.(?:0|[1-9][0-9]{0,9})(?:\.[0-9a-f]{64}){0,32})?$/),
})
export type AuditCheckpoint = z.infer<typeof AuditCheckpointSchema>
