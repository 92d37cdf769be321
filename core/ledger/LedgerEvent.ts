import * as z from 'zod'
import { ApprovalSummarySchema } from '../../shared/owner/approvalSummary.js'

/**
 * Everything that changes a spend ledger, as plain JSON. The audit log stores
 * these inside its entries; on restart the enclave replays them in order
 * through `SpendLedger.apply`, the same function used live, so the rebuilt
 * ledger equals the live one. Amounts are base-unit decimal strings, times
 * are milliseconds since the epoch.
 */
const address = z.string().regex(/^0x[0-9a-f]{40}$/, 'lowercase address')
const asset = z.union([address, z.literal('native')])
const amount = z.string().regex(/^(0|[1-9][0-9]{0,77})$/)
const agentId = z.string().min(1).max(64)
const at = z.number().int().nonnegative()
const ident = z.string().min(1).max(80)

export const PendingCreatedSchema = z.strictObject({
  type: z.literal('pending_created'),
  pendingId: ident,
  agentId,
  /** Identity a retry must match (the action minus its kind's free fields; core/policy/approvalRequest.ts). */
  key: z.string().regex(/^0x[0-9a-f]{64}$/),
  /** SHA-256 of `summary`: what the owner's ResolvePending signs. */
  digest: z.string().regex(/^0x[0-9a-f]{64}$/),
  at,
  expiresAt: at,
  /** What is being approved, in full, for the owner to see and check. */
  summary: ApprovalSummarySchema,
})
export const PermitIssuedSchema = z.strictObject({
  type: z.literal('permit_issued'),
  permitId: ident,
  agentId,
  chainId: z.number().int().positive(),
  asset,
  amount,
  payTo: address.nullable(),
  host: z.string().max(253).nullable(),
  expiresAt: at,
  exceedCaps: z.boolean(),
  at,
})

export const LedgerEventSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('spend'),
    agentId,
    chainId: z.number().int().positive(),
    asset,
    amount,
    payTo: address.nullable(),
    /** How the signature lets someone take it (transfer, authorization, allowance, value, fee). */
    role: z.enum(['transfer', 'authorization', 'allowance', 'value', 'fee']),
    host: z.string().max(253).nullable(),
    at,
    /** Unix seconds until which the signature is money (null: no end, e.g. a transaction until mined). */
    validBefore: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER).nullable(),
    permitId: ident.optional(),
    preApprovalId: ident.optional(),
    pendingId: ident.optional(),
  }),
  z.strictObject({ type: z.literal('request'), agentId, at }),
  z.strictObject({ type: z.literal('denial'), agentId, code: z.string().max(64), at }),
  PendingCreatedSchema,
  z.strictObject({ type: z.literal('pending_resolved'), pendingId: ident, approve: z.boolean(), at }),
  z.strictObject({ type: z.literal('pending_used'), pendingId: ident, at }),
  PermitIssuedSchema,
  z.strictObject({ type: z.literal('permit_used'), permitId: ident, amount, at }),
  /** A permit cancelled before use: its held amount returns to the budget. */
  z.strictObject({ type: z.literal('budget_released'), permitId: ident, at }),
  /** The owner gives budget back (e.g. an authorization that expired unsettled): counts against spends in the window. */
  z.strictObject({ type: z.literal('budget_credit'), agentId, chainId: z.number().int().positive(), asset, amount, at }),
  /**
   * x402 batch-settlement: a deposit locked `locked` in channel `channelId`, or a voucher raised the channel's highest
   * signed running total to `signed` (what the next voucher's increase is counted from). Never swept.
   */
  z.strictObject({ type: z.literal('channel'), agentId, channelId: z.string().regex(/^0x[0-9a-f]{64}$/), chainId: z.number().int().positive(), asset: address, locked: amount, signed: amount, at }),
  /** The owner saw `amount` leave channel `channelId` (withdrawn or refunded): it no longer counts as locked. */
  z.strictObject({ type: z.literal('channel_released'), channelId: z.string().regex(/^0x[0-9a-f]{64}$/), amount, at }),
  z.strictObject({ type: z.literal('agent_frozen'), agentId, reason: z.string().max(280), at }),
  z.strictObject({ type: z.literal('agent_unfrozen'), agentId, at }),
])
export type LedgerEvent = z.infer<typeof LedgerEventSchema>

/** The ledger's records and JSON form (sealed inside snapshots), derived from the events that create them. */
export const PendingRecordSchema = PendingCreatedSchema.omit({ type: true, at: true }).extend({
  createdAt: at,
  status: z.enum(['pending', 'approved', 'rejected', 'used']),
  resolvedAt: at.nullable(),
})
export const PermitRecordSchema = PermitIssuedSchema.omit({ type: true, at: true }).extend({
  issuedAt: at,
  used: z.boolean(),
  spent: amount.nullable(),
  released: z.boolean(),
  closedAt: at.nullable(),
})
const series = z.record(z.string(), z.array(z.tuple([at, z.string().regex(/^[0-9]+$/)])))
export const SpendLedgerJsonSchema = z.strictObject({
  v: z.literal(1),
  spends: series,
  credits: series.optional(),
  preApprovals: series,
  requests: series,
  denials: series,
  pendings: z.array(PendingRecordSchema),
  permits: z.array(PermitRecordSchema),
  frozen: z.record(z.string(), z.strictObject({ reason: z.string(), at })),
  riskResetAt: z.record(z.string(), at),
  lastSweepAt: at,
  /** x402 batch-settlement channels (absent when none). */
  channels: z
    .record(z.string().regex(/^0x[0-9a-f]{64}$/), z.strictObject({ chainId: z.number().int().positive(), asset: address, deposited: amount, signed: amount, released: amount.optional() }))
    .optional(),
})
