import * as z from 'zod'

/**
 * Owner acts: EIP-712 messages signed by the owner's EVM key. The enclave
 * rebuilds the typed data from these fixed types (never from client-sent
 * types) and checks the signature. Every act on an existing wallet carries
 * `seq` = the wallet's owner sequence + 1: a lower seq is stale/replayed, a
 * higher one proves the enclave was handed a rolled-back state.
 */
export const OWNER_DOMAIN = { name: 'bursar', version: '1' } as const

const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/)
const agent = z.string().regex(/^agt_[0-9a-f]{40}$/)
const hex32 = z.string().regex(/^0x[0-9a-fA-F]{64}$/)
/** Lower-case only: the enclave's own hashes, compared as strings. */
const hash32 = z.string().regex(/^0x[0-9a-f]{64}$/)
const label = z.string().max(64)

/**
 * SECURITY: every integer is range-checked here, before the enclave converts
 * it: decimal strings (EIP-712 uints) whose value fits what they mean, so no
 * `Number(...)` downstream loses precision and no ledger event built from an
 * act can fail its own schema (finding 1 of issue 13: halt by integer).
 */
const MAX_UINT256 = (1n << 256n) - 1n
/** Latest time a Date can hold (ms): below 2^53, so ms timestamps stay exact numbers. */
export const MAX_TIME_MS = 8_640_000_000_000_000
const decimal = (maxDigits: number) => new RegExp(`^(0|[1-9][0-9]{0,${maxDigits - 1}})$`)
// zod runs every check even after one fails, so each refinement is total: it re-tests the shape itself.
/** A decimal string within [min, max] (both safe integers). */
export const safeUintString = (min: number, max: number) =>
  z.string().refine((v) => decimal(16).test(v) && Number(v) >= min && Number(v) <= max, `expected a decimal integer in [${min}, ${max}]`)
const uint256 = z.string().refine((v) => decimal(78).test(v) && BigInt(v) <= MAX_UINT256, 'expected a decimal uint256')
/** EVM chain ids are positive and (as everywhere in bursar) safe integers. */
const chainId = ['uint256', safeUintString(1, Number.MAX_SAFE_INTEGER)] as const
const timeMs = ['uint64', safeUintString(1, MAX_TIME_MS)] as const
const version = ['uint64', safeUintString(1, Number.MAX_SAFE_INTEGER)] as const
/** Owner keys per wallet (bounded state: a proposal's signer list is at most this long). */
export const MAX_OWNERS = 10
const quorum = ['uint8', safeUintString(1, MAX_OWNERS)] as const

/** One field of an act: its EIP-712 type and the schema of its JSON form (uint64/uint256 as decimal strings). */
type Field = readonly [type: string, schema: z.ZodType]
const wallet = { wallet: ['address', address] } as const
const agentId = { agentId: ['string', agent] } as const
const seq = { seq: ['uint64', safeUintString(0, Number.MAX_SAFE_INTEGER)] } as const
/**
 * gov36: `auditChain` binds a new wallet to one enclave's audit chain (core id ‖ chain id, zeros for the root chain;
 * `GET /v1/attestation` → `auditChain`): its nonce is remembered only in that chain's state, so any other enclave refuses it.
 */
const newWallet = { owner: ['address', address], label: ['string', label], nonce: ['bytes32', hex32], issuedAt: timeMs, auditChain: ['bytes32', hex32] } as const

/** Every act, its fields once (in EIP-712 order): the EIP-712 types and the message schemas are both built from this. */
const OWNER_ACTS = {
  CreateWallet: newWallet,
  RegisterAgent: { ...wallet, ...agentId, agentPublicKey: ['bytes', hex32], label: ['string', label], ...seq },
  SetPolicy: { ...wallet, ...agentId, version, policyHash: ['bytes32', hash32], ...seq },
  SetWalletPolicy: { ...wallet, version, policyHash: ['bytes32', hash32], ...seq },
  RevokeAgent: { ...wallet, ...agentId, ...seq },
  RevokePolicy: { ...wallet, ...agentId, ...seq },
  FreezeAgent: { ...wallet, ...agentId, frozen: ['bool', z.boolean()], ...seq },
  ResolvePending: {
    ...wallet,
    pendingId: ['string', z.string().max(80)],
    /** SHA-256 of the approved purchase's summary (shared/owner/approvalSummary.ts): binds the signature to it. */
    digest: ['bytes32', hex32],
    approve: ['bool', z.boolean()],
    ...seq,
  },
  IssuePermit: {
    ...wallet,
    ...agentId,
    permitId: ['string', z.string().min(1).max(80)],
    chainId,
    asset: ['address', address],
    amount: ['uint256', uint256],
    payTo: ['address', address],
    host: ['string', z.string().max(253)],
    expiresAt: timeMs,
    exceedCaps: ['bool', z.boolean()],
    ...seq,
  },
  CreditBudget: { ...wallet, ...agentId, chainId, asset: ['address', address], amount: ['uint256', uint256], ...seq },
  /** x402 batch-settlement: funds the owner saw leave a channel (withdrawn, refunded) stop counting as locked. */
  ReleaseLocked: { ...wallet, channelId: ['bytes32', hex32], amount: ['uint256', uint256], ...seq },
  Resync: { ...wallet, ...seq },
  /** Cancels a widening policy act still waiting out the wallet's delay (any owner: a stop-class act). */
  CancelScheduled: { ...wallet, actHash: ['bytes32', hash32], ...seq },
  /**
   * Non-custodial exit: the wallet key sealed to the owners' X25519 key (shared/owner/keyExitCipher.ts). Needs the
   * strictest threshold of the owner set and waits the wallet's delay; then any owner collects it with the same act.
   */
  ExportKey: { ...wallet, recipientKey: ['bytes32', hex32], ...seq },
  /** A new wallet (or an exported one, back) from an existing key sealed to the enclave's attested import key. */
  ImportWallet: { ...newWallet, address: ['address', address], sealedKey: ['bytes', z.string().regex(/^0x[0-9a-fA-F]{184}$/)] },
  /** Approving a pending request that spends more than `above` of (chainId, asset) needs `quorum` owners (1: no rule). */
  SetApprovalQuorum: { ...wallet, chainId, asset: ['address', address], above: ['uint256', uint256], quorum, ...seq },
  /** The owner set and the m-of-n threshold per class of act (stop, approve, loosen, agents, owners). */
  SetOwners: {
    ...wallet,
    owners: ['address[]', z.array(address).min(1).max(MAX_OWNERS)],
    stopQuorum: quorum,
    approveQuorum: quorum,
    loosenQuorum: quorum,
    agentsQuorum: quorum,
    ownersQuorum: quorum,
    /** How long an act that widens what an agent may do waits before it takes effect. */
    delaySeconds: ['uint64', safeUintString(0, 30 * 86_400)],
    ...seq,
  },
} as const satisfies Record<string, Record<string, Field>>

export type OwnerActType = keyof typeof OWNER_ACTS
type Acts = typeof OWNER_ACTS
const each = <R>(f: (fields: Record<string, Field>) => R) => Object.fromEntries(Object.entries(OWNER_ACTS).map(([t, fields]) => [t, f(fields)])) as Record<OwnerActType, R>

/** The EIP-712 types, per act: `[{ name, type }]` in field order. */
export const OWNER_ACT_TYPES = each((fields) => Object.entries(fields).map(([name, [type]]) => ({ name, type })))

const messageSchemas = each((fields) => z.strictObject(Object.fromEntries(Object.entries(fields).map(([name, [, schema]]) => [name, schema])))) as {
  [K in OwnerActType]: z.ZodObject<{ -readonly [F in keyof Acts[K]]: Acts[K][F] extends Field ? Acts[K][F][1] : never }, z.core.$strict>
}

/** Message schemas (JSON form: uint64/uint256 as decimal strings). */
export const OwnerActMessageSchemas = {
  ...messageSchemas,
  SetOwners: messageSchemas.SetOwners.refine((m) => new Set(m.owners.map((o) => o.toLowerCase())).size === m.owners.length, 'owners must be distinct').refine(
    (m) => [m.stopQuorum, m.approveQuorum, m.loosenQuorum, m.agentsQuorum, m.ownersQuorum].every((q) => Number(q) <= m.owners.length),
    'a threshold exceeds the number of owners',
  ),
}

export function isOwnerActType(t: string): t is OwnerActType {
  return Object.hasOwn(OWNER_ACTS, t)
}

/** An owner act whose EIP-712 signature recovered to `signer` (governance/verifyOwnerAct.ts checks it). */
export type VerifiedOwnerAct = {
  [K in OwnerActType]: { primaryType: K; message: ReturnType<(typeof OwnerActMessageSchemas)[K]['parse']>; signer: `0x${string}` }
}[OwnerActType]
