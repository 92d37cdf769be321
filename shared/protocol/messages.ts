import * as z from 'zod'
import { AuditCheckpointSchema } from '../audit/auditCheckpoint.js'
import { AuditHeadSchema, CHAIN_ID_REGEX } from '../audit/auditEntry.js'
import { OwnerReceiptBodySchema } from '../owner/ownerReceipt.js'
import type { EnclaveRequestType, OwnerActBodySchema } from './requests.js'

/**
 * THE host↔enclave protocol: every request (requests.ts, re-exported here) and response that crosses the channel,
 * as one zod discriminated union each. The enclave parses the requests, the host the responses with these
 * schemas; nothing else defines a wire shape.
 */
export * from './requests.js'
export type OwnerActBody = z.infer<typeof OwnerActBodySchema>

const bytes = z.custom<Uint8Array>((v) => v instanceof Uint8Array, 'expected bytes')
const hex = z.string().regex(/^0x[0-9a-fA-F]*$/)

/** The enclave's signed checkpoint over an audit head: one schema, from shared/audit. */
export const CheckpointSchema = AuditCheckpointSchema
export type WireCheckpoint = z.infer<typeof CheckpointSchema>

/** What the host must persist from a response before it forwards the result. */
export const PersistSchema = z
  .object({
    /** New audit entries (JSON text of entry + hash), in sequence order. */
    entries: z.array(z.string()),
    checkpoint: CheckpointSchema.nullable(),
    /**
     * A new sealed snapshot covering the audit chain up to `auditSeq` (inclusive; -1 = none): the core blob (`blob`,
     * `version`) and the blobs of the wallets changed since the last one (issue 15), each with the wallet's version.
     */
    sealed: z.object({ version: z.number().int(), auditSeq: z.number().int(), blob: bytes,
      wallets: z.array(z.strictObject({ wallet: z.string(), version: z.number().int(), blob: bytes })).optional() }).strict().nullable(),
  })
  .strict()
export type Persist = z.infer<typeof PersistSchema>

export const WireErrorSchema = z
  .object({
    code: z.string(),
    message: z.string(),
    rule: z.string().optional(),
    remaining: z.string().optional(),
    pendingId: z.string().optional(),
    retryAfterMs: z.number().optional(),
  })
  .strict()
export type WireError = z.infer<typeof WireErrorSchema>

export const ResponseFrameSchema = z.discriminatedUnion('ok', [
  z.object({ id: z.number().int(), ok: z.literal(true), result: z.unknown(), persist: PersistSchema.optional() }).strict(),
  z.object({ id: z.number().int(), ok: z.literal(false), error: WireErrorSchema, persist: PersistSchema.optional() }).strict(),
])
export type ResponseFrame = z.infer<typeof ResponseFrameSchema>

export { AuditHeadSchema }

export const HelloResultSchema = z
  .object({
    protocolVersion: z.number().int(),
    mode: z.enum(['sim', 'nitro']),
    phase: z.string(),
    enclaveVersion: z.string(),
    /** Issue 15 step 4: the chain a loaded enclave writes (absent: root, or nothing loaded). */
    chain: z.string().regex(CHAIN_ID_REGEX).optional(),
    /** The secp256k1 engine wallet keys sign with (enclave/sign/secp256k1Engine.ts); signatures are identical either way. */
    signEngine: z.enum(['libsecp256k1', 'noble']).optional(),
  })
  .strict()

/** Issue 15 step 4: the enclave's audit chain, absent for the root chain (docs/audit.md "Chains"). */
const chain = z.string().regex(CHAIN_ID_REGEX).optional()
export const LoadStateResultSchema = z
  .object({ stateVersion: z.number().int(), auditHead: AuditHeadSchema.nullable(), chain })
  .strict()

export const ReadyResultSchema = z
  .object({
    phase: z.literal('ready'),
    stateVersion: z.number().int(),
    auditHead: AuditHeadSchema.nullable(),
    receiptPublicKey: hex,
    wallets: z.number().int(),
    chain,
  })
  .strict()

/** catchUp: the ready enclave's identity and head (as finishLoad) and how many kept entries it re-sent. */
export const CatchUpResultSchema = ReadyResultSchema.extend({ resent: z.number().int() }).strict()

export const AgentSignedResultSchema = z
  .object({
    signature: hex,
    signedHash: hex,
    serializedTransaction: hex.optional(),
    receipt: z
      .object({ seq: z.number().int(), walletSeq: z.number().int().optional(), entryHash: hex, stateVersion: z.number().int(), checkpoint: CheckpointSchema })
      .strict(),
  })
  .strict()
/** A dry run's answer: what the enclave would decide now; nothing was signed, counted or audited. */
export const AgentDryRunResultSchema = z
  .object({
    dryRun: z.literal(true),
    verdict: z.enum(['allow', 'deny', 'pending']),
    code: z.string().optional(),
    rule: z.string().optional(),
    message: z.string().optional(),
    /** The kind's description of what would be signed (absent when it could not be decoded). */
    describe: z.string().optional(),
    /** What the signature would let someone take, fees included (amounts in base units). */
    spends: z.array(
      z.object({ chainId: z.number().int(), asset: z.string(), amount: z.string(), to: z.string().nullable(), role: z.string() }).strict(),
    ),
  })
  .strict()
/** The agentSign result: a signature with its receipt, or (dryRun requests) a dry-run verdict. */
export const AgentSignResultSchema = z.union([AgentSignedResultSchema, AgentDryRunResultSchema])
export type AgentSignResult = z.infer<typeof AgentSignResultSchema>
export type AgentSignedResult = z.infer<typeof AgentSignedResultSchema>
export type AgentDryRunResult = z.infer<typeof AgentDryRunResultSchema>

/** An owner act waiting for more owners' signatures (core/owner/quorum.ts): who has signed, of how many needed. */
const int = z.number().int()
/** An owner receipt as the host, the SDK and the CLI read it (the enclave makes them: shared/owner/ownerReceipt.ts). */
export const OwnerReceiptSchema = OwnerReceiptBodySchema.extend({ signature: hex.max(2 + 128) }).strict()
export type OwnerReceipt = z.infer<typeof OwnerReceiptSchema>
export const ProposalViewSchema = z.strictObject({ actHash: hex, act: z.string(), actClass: z.string(), signers: z.array(hex), threshold: int, expiresAt: int })

/** Result of an applied owner act: what changed, and the enclave's signed receipt (shared/owner/ownerReceipt.ts). */
export const OwnerActResultSchema = z
  .object({
    wallet: hex,
    ownerSeq: z.number().int().nonnegative(),
    owner: hex.optional(),
    agentId: z.string().optional(),
    policyVersion: z.number().int().optional(),
    policyHash: hex.optional(),
    revoked: z.boolean().optional(),
    status: z.literal('revoked').optional(),
    frozen: z.boolean().optional(),
    pendingId: z.string().optional(),
    approved: z.boolean().optional(),
    credited: z.string().optional(),
    channelId: hex.optional(),
    released: z.string().optional(),
    permitId: z.string().optional(),
    owners: z.array(hex).optional(),
    /** A widening policy act accepted but waiting out the wallet's delay (cancellable by any owner meanwhile). */
    scheduled: z.object({ actHash: hex, effectiveAt: z.number().int(), widens: z.array(z.string()) }).strict().optional(),
    cancelled: hex.optional(),
    /** ExportKey collected: the wallet key sealed to the owners' X25519 key (shared/owner/keyExitCipher.ts). */
    exported: z.strictObject({ address: hex, recipientKey: hex, sealedKey: hex }).optional(),
    /** The act was recorded as one owner's signature and waits for more (nothing else changed; ownerSeq unchanged). */
    proposal: ProposalViewSchema.optional(),
    receipt: OwnerReceiptSchema,
  })
  .strict()
export type OwnerActResult = z.infer<typeof OwnerActResultSchema>
/**
 * Issue 12 stage B: an ownerAct's first answer: the MACed view for governance and the link key sealed for governance
 * (purpose `governance-link`); the host relays both to governance and its decision back (ownerActDecision).
 */
export const NeedsGovernanceSchema = z.strictObject({ needs: z.literal('governance'), view: bytes, link: bytes })
export type NeedsGovernance = z.infer<typeof NeedsGovernanceSchema>

export const AttestResultSchema = z
  // gov36: auditChain (core id ‖ chain id) is what a CreateWallet/ImportWallet signed for this enclave names.
  .object({ document: bytes, userDataInputs: z.record(z.string(), z.unknown()), receiptPublicKey: hex, auditChain: hex, importKey: hex.optional(), importKeySignature: hex.optional() })
  .strict()

export const WalletInfoSchema = z
  .object({
    address: hex,
    owner: hex,
    label: z.string(),
    ownerSeq: z.number().int(),
    rolledBack: z.boolean(),
    createdAt: z.number().int(),
    /** The wallet-level policy (wallet-wide caps), or null. */
    walletPolicy: z.object({ version: z.number().int(), hash: hex, json: z.string() }).strict().nullable(),
    /** Owner keys and the threshold per class of act (m of n), and the loosening delay. */
    governance: z.strictObject({ owners: z.array(hex), thresholds: z.record(z.string(), int), delaySeconds: int, approveAbove: z.array(z.strictObject({ chainId: int, asset: z.string(), above: z.string(), quorum: int })).optional() }),
    /** Widening policy acts waiting out the delay: what they widen and when they take effect. */
    scheduled: z.array(z.strictObject({ actHash: hex, agentId: z.string().nullable(), version: int, hash: hex, widens: z.array(z.string()), scheduledAt: int, effectiveAt: int })),
    /** Acts waiting for more owners' signatures: the exact message to co-sign (and its policy text). */
    proposals: z.array(ProposalViewSchema.extend({ message: z.string(), policy: z.string().nullable(), seq: z.number().int() }).strict()),
    /** The owners' key exit (scheduled, or due: the wallet signs nothing more), or null. */
    exit: z.strictObject({ actHash: hex, recipientKey: hex, scheduledAt: int, effectiveAt: int, collectedAt: int.optional(), due: z.boolean() }).nullable().optional(),
    /** Unfreezes, permits and budget credits waiting out the delay (applied at the first request or act once due). */
    held: z.array(z.strictObject({ actHash: hex, act: z.string(), agentId: z.string(), scheduledAt: int, effectiveAt: int })).optional(),
    agents: z.array(
      z
        .object({
          agentId: z.string(),
          label: z.string(),
          status: z.enum(['active', 'revoked']),
          frozen: z.boolean(),
          policy: z.object({ version: z.number().int(), hash: hex, json: z.string() }).strict().nullable(),
        })
        .strict(),
    ),
    pending: z.array(z.record(z.string(), z.unknown())),
    permits: z.array(z.record(z.string(), z.unknown())),
  })
  .strict()
export type WalletInfo = z.infer<typeof WalletInfoSchema>

/** agentStatus: the authenticated agent and, for readStatus, core/policy/budgetStatus's view of its ledger. */
export const AgentStatusResultSchema = z
  .object({
    agentId: z.string(),
    wallet: hex,
    op: z.enum(['readStatus', 'readPayments', 'openSession']),
    limit: z.number().int().optional(),
    status: z.record(z.string(), z.unknown()).optional(),
    /** openSession: the session id, the enclave's ephemeral X25519 public key (hex) and the session's end (ms). */
    session: z.strictObject({ id: z.string().regex(/^[0-9a-f]{32}$/), x25519: z.string().regex(/^[0-9a-f]{64}$/), expiresAt: z.number().int() }).optional(),
  })
  .strict()
export type AgentStatusResult = z.infer<typeof AgentStatusResultSchema>

export const GetWalletsResultSchema = z.object({ wallets: z.array(WalletInfoSchema) }).strict()

/** loadWallet / dropWallet (issue 15 step 3): the wallet, the blob version loaded or sealed last, its thread head's walletSeq here. */
export const LoadWalletResultSchema = z.strictObject({ wallet: hex, version: int, walletSeq: int, replayed: int })
export const DropWalletResultSchema = z.strictObject({ wallet: hex, version: int, walletSeq: int })

/** ONE result schema per request type: the host parses what it gets; the enclave's answers have these shapes. */
export const RESULT_SCHEMAS = {
  hello: HelloResultSchema,
  loadState: LoadStateResultSchema,
  replayEntries: LoadStateResultSchema,
  finishLoad: ReadyResultSchema,
  catchUp: CatchUpResultSchema,
  ownerAct: z.union([NeedsGovernanceSchema, OwnerActResultSchema]),
  ownerActDecision: OwnerActResultSchema,
  agentSign: AgentSignResultSchema,
  attest: AttestResultSchema,
  getWallets: GetWalletsResultSchema,
  agentStatus: AgentStatusResultSchema,
  loadWallet: LoadWalletResultSchema,
  dropWallet: DropWalletResultSchema,
} as const satisfies { [T in EnclaveRequestType]: z.ZodType }
export type ResultOf<T extends EnclaveRequestType> = z.infer<(typeof RESULT_SCHEMAS)[T]>
/** A response whose result is parsed with its request's result schema. */
export type TypedResponse<T extends EnclaveRequestType> =
  | { ok: true; result: ResultOf<T>; persist?: Persist | undefined }
  | { ok: false; error: WireError; persist?: Persist | undefined }
