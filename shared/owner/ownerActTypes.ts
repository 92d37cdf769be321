import { z } from 'zod'

/**
 * Owner acts: EIP-712 messages signed by the owner's EVM key. The enclave
 * rebuilds the typed data from these fixed types (never from client-sent
 * types) and checks the signature. Every act on an existing wallet carries
 * `seq` = the wallet's owner sequence + 1: a lower seq is stale/replayed, a
 * higher one proves the enclave was handed a rolled-back state.
 */
export const OWNER_DOMAIN = { name: 'bursar', version: '1' } as const

const wallet = { name: 'wallet', type: 'address' } as const
const agentId = { name: 'agentId', type: 'string' } as const
const seq = { name: 'seq', type: 'uint64' } as const

export const OWNER_ACT_TYPES = {
  CreateWallet: [
    { name: 'owner', type: 'address' },
    { name: 'label', type: 'string' },
    { name: 'nonce', type: 'bytes32' },
    { name: 'issuedAt', type: 'uint64' },
  ],
  RegisterAgent: [wallet, agentId, { name: 'agentPublicKey', type: 'bytes' }, { name: 'label', type: 'string' }, seq],
  SetPolicy: [wallet, agentId, { name: 'version', type: 'uint64' }, { name: 'policyHash', type: 'bytes32' }, seq],
  SetWalletPolicy: [wallet, { name: 'version', type: 'uint64' }, { name: 'policyHash', type: 'bytes32' }, seq],
  RevokeAgent: [wallet, agentId, seq],
  RevokePolicy: [wallet, agentId, seq],
  FreezeAgent: [wallet, agentId, { name: 'frozen', type: 'bool' }, seq],
  ResolvePending: [
    wallet,
    { name: 'pendingId', type: 'string' },
    /** SHA-256 of the approved purchase's summary (shared/owner/approvalSummary.ts): binds the signature to it. */
    { name: 'digest', type: 'bytes32' },
    { name: 'approve', type: 'bool' },
    seq,
  ],
  IssuePermit: [
    wallet,
    agentId,
    { name: 'permitId', type: 'string' },
    { name: 'chainId', type: 'uint256' },
    { name: 'asset', type: 'address' },
    { name: 'amount', type: 'uint256' },
    { name: 'payTo', type: 'address' },
    { name: 'host', type: 'string' },
    { name: 'expiresAt', type: 'uint64' },
    { name: 'exceedCaps', type: 'bool' },
    seq,
  ],
  CreditBudget: [
    wallet,
    agentId,
    { name: 'chainId', type: 'uint256' },
    { name: 'asset', type: 'address' },
    { name: 'amount', type: 'uint256' },
    seq,
  ],
  /** x402 batch-settlement: funds the owner saw leave a channel (withdrawn, refunded) stop counting as locked. */
  ReleaseLocked: [wallet, { name: 'channelId', type: 'bytes32' }, { name: 'amount', type: 'uint256' }, seq],
  Resync: [wallet, seq],
  /** Cancels a widening policy act still waiting out the wallet's delay (any owner: a stop-class act). */
  CancelScheduled: [wallet, { name: 'actHash', type: 'bytes32' }, seq],
  /**
   * Non-custodial exit: the wallet key sealed to the owners' X25519 key (shared/owner/keyExitCipher.ts). Needs the
   * strictest threshold of the owner set and waits the wallet's delay; then any owner collects it with the same act.
   */
  ExportKey: [wallet, { name: 'recipientKey', type: 'bytes32' }, seq],
  /** A new wallet (or an exported one, back) from an existing key sealed to the enclave's attested import key. */
  ImportWallet: [
    { name: 'owner', type: 'address' },
    { name: 'label', type: 'string' },
    { name: 'nonce', type: 'bytes32' },
    { name: 'issuedAt', type: 'uint64' },
    { name: 'address', type: 'address' },
    { name: 'sealedKey', type: 'bytes' },
  ],
  /** Approving a pending request that spends more than `above` of (chainId, asset) needs `quorum` owners (1: no rule). */
  SetApprovalQuorum: [wallet, { name: 'chainId', type: 'uint256' }, { name: 'asset', type: 'address' }, { name: 'above', type: 'uint256' }, { name: 'quorum', type: 'uint8' }, seq],
  /** The owner set and the m-of-n threshold per class of act (stop, approve, loosen, agents, owners). */
  SetOwners: [
    wallet,
    { name: 'owners', type: 'address[]' },
    { name: 'stopQuorum', type: 'uint8' },
    { name: 'approveQuorum', type: 'uint8' },
    { name: 'loosenQuorum', type: 'uint8' },
    { name: 'agentsQuorum', type: 'uint8' },
    { name: 'ownersQuorum', type: 'uint8' },
    /** How long an act that widens what an agent may do waits before it takes effect. */
    { name: 'delaySeconds', type: 'uint64' },
    seq,
  ],
} as const

export type OwnerActType = keyof typeof OWNER_ACT_TYPES

const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/)
const agent = z.string().regex(/^agt_[0-9a-f]{40}$/)

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
const seqField = safeUintString(0, Number.MAX_SAFE_INTEGER)
/** EVM chain ids are positive and (as everywhere in bursar) safe integers. */
const chainIdField = safeUintString(1, Number.MAX_SAFE_INTEGER)
const timeMs = safeUintString(1, MAX_TIME_MS)
const version = safeUintString(1, Number.MAX_SAFE_INTEGER)
/** Owner keys per wallet (bounded state: a proposal's signer list is at most this long). */
export const MAX_OWNERS = 10
const quorum = safeUintString(1, MAX_OWNERS)

/** Message schemas (JSON form: uint64/uint256 as decimal strings). */
export const OwnerActMessageSchemas = {
  CreateWallet: z.strictObject({ owner: address, label: z.string().max(64), nonce: z.string().regex(/^0x[0-9a-fA-F]{64}$/), issuedAt: timeMs }),
  RegisterAgent: z.strictObject({
    wallet: address,
    agentId: agent,
    agentPublicKey: z.string().regex(/^0x[0-9a-fA-F]{64}$/),
    label: z.string().max(64),
    seq: seqField,
  }),
  SetPolicy: z.strictObject({ wallet: address, agentId: agent, version, policyHash: z.string().regex(/^0x[0-9a-f]{64}$/), seq: seqField }),
  SetWalletPolicy: z.strictObject({ wallet: address, version, policyHash: z.string().regex(/^0x[0-9a-f]{64}$/), seq: seqField }),
  RevokeAgent: z.strictObject({ wallet: address, agentId: agent, seq: seqField }),
  RevokePolicy: z.strictObject({ wallet: address, agentId: agent, seq: seqField }),
  FreezeAgent: z.strictObject({ wallet: address, agentId: agent, frozen: z.boolean(), seq: seqField }),
  ResolvePending: z.strictObject({ wallet: address, pendingId: z.string().max(80), digest: z.string().regex(/^0x[0-9a-fA-F]{64}$/), approve: z.boolean(), seq: seqField }),
  IssuePermit: z.strictObject({
    wallet: address,
    agentId: agent,
    permitId: z.string().min(1).max(80),
    chainId: chainIdField,
    asset: address,
    amount: uint256,
    payTo: address,
    host: z.string().max(253),
    expiresAt: timeMs,
    exceedCaps: z.boolean(),
    seq: seqField,
  }),
  CreditBudget: z.strictObject({ wallet: address, agentId: agent, chainId: chainIdField, asset: address, amount: uint256, seq: seqField }),
  ReleaseLocked: z.strictObject({ wallet: address, channelId: z.string().regex(/^0x[0-9a-fA-F]{64}$/), amount: uint256, seq: seqField }),
  Resync: z.strictObject({ wallet: address, seq: seqField }),
  CancelScheduled: z.strictObject({ wallet: address, actHash: z.string().regex(/^0x[0-9a-f]{64}$/), seq: seqField }),
  ExportKey: z.strictObject({ wallet: address, recipientKey: z.string().regex(/^0x[0-9a-fA-F]{64}$/), seq: seqField }),
  ImportWallet: z.strictObject({
    owner: address,
    label: z.string().max(64),
    nonce: z.string().regex(/^0x[0-9a-fA-F]{64}$/),
    issuedAt: timeMs,
    address,
    sealedKey: z.string().regex(/^0x[0-9a-fA-F]{184}$/),
  }),
  SetApprovalQuorum: z.strictObject({ wallet: address, chainId: chainIdField, asset: address, above: uint256, quorum, seq: seqField }),
  SetOwners: z
    .strictObject({
      wallet: address,
      owners: z.array(address).min(1).max(MAX_OWNERS),
      stopQuorum: quorum,
      approveQuorum: quorum,
      loosenQuorum: quorum,
      agentsQuorum: quorum,
      ownersQuorum: quorum,
      delaySeconds: safeUintString(0, 30 * 86_400),
      seq: seqField,
    })
    .refine((m) => new Set(m.owners.map((o) => o.toLowerCase())).size === m.owners.length, 'owners must be distinct')
    .refine((m) => [m.stopQuorum, m.approveQuorum, m.loosenQuorum, m.agentsQuorum, m.ownersQuorum].every((q) => Number(q) <= m.owners.length), 'a threshold exceeds the number of owners'),
} as const satisfies Record<OwnerActType, z.ZodType>

export function isOwnerActType(t: string): t is OwnerActType {
  return Object.hasOwn(OWNER_ACT_TYPES, t)
}
