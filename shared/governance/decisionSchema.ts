import * as z from 'zod'
import { AuditEventSchema } from '../audit/auditEntry.js'
import type { ErrorCode } from '../errors/errorCodes.js'
import { LedgerEventSchema } from '../../core/ledger/LedgerEvent.js'

/** Classes of owner acts, each with its own m-of-n threshold (governance/quorum.ts). */
export const ACT_CLASSES = ['stop', 'approve', 'loosen', 'agents', 'owners'] as const

export const uint = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER)
export const hex = (n: number) => z.custom<`0x${string}`>((v) => typeof v === 'string' && v.length === 2 + n && /^0x[0-9a-fA-F]*$/.test(v))
export const policyRecord = { json: z.string(), version: uint, hash: hex(64) }
/** A stored agent policy and the wallet policy (PolicyRecord, WalletPolicyRecord): in decisions and in sealed wallet blobs. */
export const PolicyRecordSchema = z.strictObject({ agentId: z.string(), ...policyRecord, revoked: z.boolean().optional() })
export const WalletPolicyRecordSchema = z.strictObject(policyRecord)

/** The governance records of a wallet (the seam's view and decisions carry them as JSON; the sealed wallet blobs as CBOR, core/state/snapshotCodec.ts). */
export const GovernanceRecordSchemas = {
  governance: z.strictObject({ owners: z.array(hex(40)), thresholds: z.strictObject({ stop: uint, approve: uint, loosen: uint, agents: uint, owners: uint }), delayMs: uint,
    approveAbove: z.array(z.strictObject({ chainId: uint, asset: z.string(), above: z.string(), quorum: uint })).optional(),
    prevDelay: z.strictObject({ ms: uint, until: uint }).optional() }),
  proposals: z.array(z.strictObject({
    actHash: hex(64), primaryType: z.string(), message: z.string(), policy: z.string().nullable(), actClass: z.enum(ACT_CLASSES), threshold: uint,
    signers: z.array(hex(40)), seq: uint, createdAt: uint, expiresAt: uint,
  })),
  exit: z.strictObject({ actHash: hex(64), recipientKey: hex(64), scheduledAt: uint, effectiveAt: uint, collectedAt: uint.optional() }),
  held: z.array(z.strictObject({ actHash: hex(64), primaryType: z.string(), message: z.string(), signer: hex(40), agentId: z.string(), scheduledAt: uint, effectiveAt: uint })),
  loneApproved: z.array(z.strictObject({ chainId: uint, asset: z.string(), amount: z.string(), at: uint })),
}
const ScheduledSchema = z.strictObject({
  actHash: hex(64), agentId: z.string().nullable(), policy: z.union([PolicyRecordSchema, WalletPolicyRecordSchema]), widens: z.array(z.string()), scheduledAt: uint, effectiveAt: uint,
})
const AgentJsonSchema = z.strictObject({ agentId: z.string(), publicKey: hex(64), label: z.string(), status: z.enum(['active', 'revoked']), registeredAt: uint })
const g = GovernanceRecordSchemas
/** `null` in a `governance_set` is the record dropped (JSON has no `undefined`; the exit cancelled or re-imported). */
const nullable = <T extends z.ZodType>(s: T) => s.nullable().optional()

/** Every WalletChange variant (core/owner/walletActChange.ts) as JSON: what a decision may change in a wallet. */
export const WalletChangeJsonSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('agent_registered'), agent: AgentJsonSchema }),
  z.strictObject({ type: z.literal('policy_set'), policy: PolicyRecordSchema }),
  z.strictObject({ type: z.literal('wallet_policy_set'), policy: WalletPolicyRecordSchema }),
  z.strictObject({ type: z.literal('governance_set'), set: z.strictObject({ governance: nullable(g.governance), proposals: nullable(g.proposals), exit: nullable(g.exit), held: nullable(g.held), loneApproved: nullable(g.loneApproved) }) }),
  z.strictObject({ type: z.literal('scheduled'), item: ScheduledSchema }),
  z.strictObject({ type: z.literal('scheduled_cancelled'), actHash: z.string().optional(), agentId: z.string().optional() }),
  z.strictObject({ type: z.literal('scheduled_due'), now: uint }),
  z.strictObject({ type: z.literal('policy_revoked'), agentId: z.string() }),
  z.strictObject({ type: z.literal('agent_revoked'), agentId: z.string() }),
])

const address = hex(40)
/** One state change of a decision, in order: the signer applies each through EnclaveState.apply (ledger events after checkLedgerEvents). */
const ChangeStepSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('wallet_changed'), wallet: address, change: WalletChangeJsonSchema }),
  z.strictObject({ type: z.literal('ledger'), wallet: address, events: z.array(LedgerEventSchema) }),
  z.strictObject({ type: z.literal('owner_seq'), wallet: address, ownerSeq: uint, rolledBack: z.boolean() }),
  /** A new wallet (CreateWallet, ImportWallet of a new key): the signer adds the key (generated or imported). */
  z.strictObject({ type: z.literal('wallet_created'), owner: address, label: z.string(), createdAt: uint, nonce: z.string(), issuedAt: uint, pruneBefore: z.number().int() }),
])
/** One audit entry of a decision (Enclave.appendInfo's fields). */
const AuditStepSchema = z.strictObject({
  type: z.literal('audit'), event: AuditEventSchema,
  fields: z.strictObject({ wallet: address.optional(), agentId: z.string().nullable().optional(), rule: z.string().optional(), reason: z.string().optional(), requestId: z.string().optional(),
    verdict: z.literal('deny').optional(), code: z.string().optional(), policy: z.strictObject({ version: uint, hash: z.string() }).nullable().optional(), ledger: z.array(LedgerEventSchema).optional() }),
})
// A code's shape only: the table (shared/errors/errorCodes.ts) stays out of the signer; governance answers only its codes.
const code = z.custom<ErrorCode>((c) => typeof c === 'string' && /^[a-z0-9_]{1,64}$/.test(c))
const ErrorSchema = z.strictObject({ code, message: z.string().max(1000) })

/**
 * SECURITY: the one schema of a governance decision (docs/trustedClosure.md, "Design: the governance split"). The
 * signer accepts it only under the link key's MAC (shared/governance/linkMac.ts) and bound to the view it sent: its
 * wallet, the ownerSeq it read and the view's hash.
 */
export const GovernanceDecisionSchema = z.strictObject({
  v: z.literal(1),
  viewHash: hex(64),
  /** The wallet the view named (null: CreateWallet / ImportWallet) and its ownerSeq then. */
  wallet: z.string().max(42).nullable(),
  ownerSeq: uint.nullable(),
  act: z.string(),
  actHash: hex(64).nullable(),
  /** The key operation the signer does: a new key (CreateWallet), the opened import key, the wallet key sealed to the exit's recipient. */
  key: z.enum(['none', 'generate', 'import', 'export']),
  steps: z.array(z.union([ChangeStepSchema, AuditStepSchema])),
  outcome: z.union([
    z.strictObject({ kind: z.literal('applied'), result: z.record(z.string(), z.unknown()).and(z.object({ wallet: address, ownerSeq: uint })) }),
    /** Refused after its steps (a rollback detected: the wallet is marked, audited and sealed, and the act answered with this error). */
    z.strictObject({ kind: z.literal('failed'), error: ErrorSchema }),
    /** Refused: the steps before the refusal (due loosenings) apply, the act changes nothing. */
    z.strictObject({ kind: z.literal('refused'), error: ErrorSchema, extra: z.record(z.string(), z.union([z.string(), z.number()])).optional() }),
  ]),
})
export type GovernanceDecision = z.infer<typeof GovernanceDecisionSchema>
export type DecisionStep = GovernanceDecision['steps'][number]
